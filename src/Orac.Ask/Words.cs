namespace Orac.Ask;

/// <summary>One word of a question: the text as typed (punctuation around it removed) and its lower-case form, with its place in the text.</summary>
internal readonly record struct Word(string Text, string Lower, int Start, int End);

/// <summary>Splits text into words by hand (no regular expressions: no backtracking hazard on any input).</summary>
internal static class Words
{
    /// <summary>Longest text the splitter reads; longer text is cut (callers bound their input before this).</summary>
    public const int MaxChars = 4000;

    /// <summary>
    /// Splits on white space; strips leading and trailing punctuation (keeping characters that belong inside code
    /// names and selectors: <c>_ : . / ( ) { } = ~ " - $</c> are only stripped where they end a sentence). Empty words are dropped.
    /// </summary>
    public static List<Word> Split(string text)
    {
        var words = new List<Word>();
        int n = Math.Min(text.Length, MaxChars);
        int i = 0;
        while (i < n)
        {
            while (i < n && IsSpace(text[i]))
            {
                i++;
            }

            int start = i;
            while (i < n && !IsSpace(text[i]))
            {
                i++;
            }

            int end = i;
            while (start < end && IsLeadingPunct(text[start]))
            {
                start++;
            }

            while (end > start && IsTrailingPunct(text[end - 1], text, start, end))
            {
                end--;
            }

            if (end > start)
            {
                var w = text[start..end];
                words.Add(new Word(w, w.ToLowerInvariant(), start, end));
            }
        }

        return words;
    }

    /// <summary>Whether <paramref name="c"/> separates words (white space and the dashes people put between clauses).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is '\u2014' or '\u2013' or '\u00a0';

    private static bool IsLeadingPunct(char c) => c is '"' or '\'' or '`' or '(' or '[' or '<' or ',' or ';' or '!' or '?' or '\u201c' or '\u2018' or '*';

    private static bool IsTrailingPunct(char c, string text, int start, int end)
    {
        if (c is ')')
        {
            // Keep "f()" and "Foo::bar()": a closing parenthesis with its opening one inside the word is code.
            return text.AsSpan(start, end - start - 1).IndexOf('(') < 0;
        }

        return c is '"' or '\'' or '`' or ']' or '>' or ',' or ';' or '!' or '?' or '.' or ':' or '\u201d' or '\u2019' or '*';
    }
}
