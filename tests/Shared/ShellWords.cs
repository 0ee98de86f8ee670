using System.Text;

namespace Orac.Tests.Shared;

/// <summary>Shell quoting as the corpus case indexes use it (their args column is POSIX shell quoted).</summary>
public static class ShellWords
{
    /// <summary>Splits a command line the way a POSIX shell does for words (quotes and backslashes; no expansions).</summary>
    public static List<string> Split(string s)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\'')
            {
                int end = s.IndexOf('\'', i + 1);
                if (end < 0)
                {
                    throw new FormatException($"unterminated ' in {s}");
                }

                word.Append(s, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (c == '"')
            {
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] is '"' or '\\' or '$' or '`')
                    {
                        i++;
                    }

                    word.Append(s[i++]);
                }

                if (i >= s.Length)
                {
                    throw new FormatException($"unterminated \" in {s}");
                }

                inWord = true;
            }
            else if (c == '\\' && i + 1 < s.Length)
            {
                word.Append(s[++i]);
                inWord = true;
            }
            else if (c is ' ' or '\t' or '\n')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}
