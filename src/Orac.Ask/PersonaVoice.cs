namespace Orac.Ask;

/// <summary>
/// The voice of deterministic answers (docs/ask.md "Persona"): <see cref="Orac"/> by default, <see cref="Plain"/> when
/// the persona's <c>respond</c> text asks for a neutral tone. Only wording changes with the voice, never figures.
/// </summary>
public static class PersonaVoice
{
    /// <summary>Terse, confident, a little sarcastic, never wrong on facts.</summary>
    public const string Orac = "orac";

    /// <summary>Neutral.</summary>
    public const string Plain = "plain";

    // Words and phrases that ask for a neutral tone; matched as whole words, case-insensitively.
    private static readonly string[] s_neutral =
    [
        "plain", "plainly", "neutral", "neutrally", "formal", "formally", "serious", "seriously", "professional",
        "professionally", "sober", "dry", "businesslike", "matter-of-fact", "matter of fact", "polite", "politely",
        "no jokes", "no joking", "no humor", "no humour", "no sarcasm", "not sarcastic", "without sarcasm",
        "without jokes", "without humor", "without humour", "no snark", "not snarky", "no wit", "no attitude",
        "don't joke", "do not joke", "don't be sarcastic", "do not be sarcastic", "don't be funny", "do not be funny",
        "not funny", "straightforward", "just the facts", "facts only", "no personality", "no banter",
    ];

    /// <summary><see cref="Plain"/> when <paramref name="respond"/> asks for a neutral tone, else <see cref="Orac"/>.</summary>
    public static string For(string? respond)
    {
        if (string.IsNullOrWhiteSpace(respond))
        {
            return Orac;
        }

        string text = Normalize(respond);
        foreach (string phrase in s_neutral)
        {
            if (ContainsWord(text, phrase))
            {
                return Plain;
            }
        }

        return Orac;
    }

    // Lower case, typographic apostrophes and runs of white space made plain, so "Don’t  joke" reads as "don't joke".
    private static string Normalize(string text)
    {
        var chars = new char[text.Length];
        int n = 0;
        bool space = false;
        foreach (char c in text)
        {
            char d = c is '\u2019' or '\u2018' ? '\'' : char.ToLowerInvariant(c);
            if (char.IsWhiteSpace(d))
            {
                if (!space && n > 0)
                {
                    chars[n++] = ' ';
                }

                space = true;
                continue;
            }

            space = false;
            chars[n++] = d;
        }

        return new string(chars, 0, n);
    }

    private static bool ContainsWord(string text, string phrase)
    {
        int from = 0;
        while (true)
        {
            int i = text.IndexOf(phrase, from, StringComparison.Ordinal);
            if (i < 0)
            {
                return false;
            }

            int end = i + phrase.Length;
            bool startOk = i == 0 || !char.IsLetterOrDigit(text[i - 1]);
            bool endOk = end == text.Length || !char.IsLetterOrDigit(text[end]);
            if (startOk && endOk)
            {
                return true;
            }

            from = i + 1;
        }
    }
}
