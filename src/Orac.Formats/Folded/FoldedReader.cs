using Orac.Model;

namespace Orac.Formats.Folded;

/// <summary>
/// Reads folded stacks (<c>frame;frame;… COUNT</c>, one stack per line) into a <see cref="Profile"/>,
/// following flamegraph.pl's line rule <c>^(.*)\s+?(\d+)$</c>: the count is the trailing digits, and
/// exactly one whitespace byte before it is dropped (any further trailing whitespace stays part of
/// the last frame, as in perl). A line whose stack again ends in whitespace + digits carries two
/// counts (difffolded output); <see cref="ReadTwoColumns"/> keeps both.
/// Lines that do not match are skipped and counted in <see cref="ParseWarnings"/>; blank lines are ignored.
/// </summary>
public static class FoldedReader
{
    /// <summary>Kind used for lines that are not <c>stack count</c>.</summary>
    public const string InvalidLine = "folded lines without a trailing count skipped";

    /// <summary>Kind used for counts that do not fit in 64 bits or have a fraction.</summary>
    public const string BadCount = "folded lines with a fractional or too-large count skipped";

    /// <summary>Kind used for lines over the length cap.</summary>
    public const string LongLine = "folded lines longer than the line cap skipped";

    /// <summary>Reads one-count folded stacks from <paramref name="input"/> into a new profile with sample type <paramref name="type"/>.</summary>
    public static Profile Read(Stream input, string name, ParseWarnings warnings, SampleType? type = null)
    {
        var builder = new ProfileBuilder(type ?? SampleType.Samples);
        ReadInto(builder, input, name, warnings, twoColumns: false);
        return builder.Build();
    }

    /// <summary>Reads folded stacks into an existing builder (one value column, or two with <paramref name="twoColumns"/>).</summary>
    public static void ReadInto(ProfileBuilder builder, Stream input, string name, ParseWarnings warnings, bool twoColumns)
    {
        var reader = new LineReader(input);
        Span<long> values = stackalloc long[2];
        while (reader.TryReadLine(out ReadOnlySpan<byte> line))
        {
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                continue;
            }

            int r = SplitCount(line, out ReadOnlySpan<byte> stack, out long count);
            if (r != 0)
            {
                warnings.Add(r == 1 ? InvalidLine : BadCount, $"{name}:{reader.LineNumber}");
                continue;
            }

            long first = count;
            bool hasSecond = false;
            if (twoColumns && SplitCount(stack, out ReadOnlySpan<byte> stack2, out long count2) == 0)
            {
                hasSecond = true;
                first = count2;
                stack = stack2;
            }

            StackId s = InternStack(builder, stack);
            if (twoColumns)
            {
                values[0] = hasSecond ? first : 0;
                values[1] = count;
                builder.Add(s, values[..builder.Width]);
            }
            else
            {
                builder.Add(s, count);
            }
        }

        foreach (long ln in reader.LongLinesSkipped)
        {
            warnings.Add(LongLine, $"{name}:{ln}");
        }
    }

    /// <summary>Reads a two-count (differential) folded file: column 0 is the first count, column 1 the second. One-count lines have 0 before.</summary>
    public static Profile ReadTwoColumns(Stream input, string name, ParseWarnings warnings)
    {
        var builder = new ProfileBuilder(new SampleType("before", "count"), new SampleType("after", "count"));
        ReadInto(builder, input, name, warnings, twoColumns: true);
        return builder.Build();
    }

    /// <summary>Interns <c>a;b;c</c> as a stack.</summary>
    public static StackId InternStack(ProfileBuilder builder, ReadOnlySpan<byte> stack)
    {
        StackId s = StackId.Root;
        while (true)
        {
            int semi = stack.IndexOf((byte)';');
            ReadOnlySpan<byte> frame = semi < 0 ? stack : stack[..semi];
            s = builder.Push(s, builder.Frame(builder.Intern(frame)));
            if (semi < 0)
            {
                return s;
            }

            stack = stack[(semi + 1)..];
        }
    }

    /// <summary>
    /// Splits <c>stack&lt;ws&gt;digits</c>. Returns 0 on success, 1 when there is no count, 2 when the
    /// count is fractional or overflows.
    /// </summary>
    public static int SplitCount(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> stack, out long count)
    {
        stack = default;
        count = 0;
        int end = line.Length;
        int i = end;
        bool fractional = false;
        // Optional fraction: digits '.' digits*
        int dot = -1;
        while (i > 0 && IsDigit(line[i - 1]))
        {
            i--;
        }

        if (i > 0 && line[i - 1] == (byte)'.')
        {
            int j = i - 1;
            int k = j;
            while (k > 0 && IsDigit(line[k - 1]))
            {
                k--;
            }

            if (k < j)
            {
                dot = j;
                fractional = true;
                for (int d = j + 1; d < end; d++)
                {
                    if (line[d] != (byte)'0')
                    {
                        goto frac;
                    }
                }

                fractional = false; // "12." or "12.000" is a whole number
            frac:
                i = k;
            }
        }

        int numEnd = dot >= 0 ? dot : end;
        if (i == numEnd || i == 0 || !IsSpace(line[i - 1]))
        {
            return 1;
        }

        stack = line[..(i - 1)];
        if (fractional)
        {
            return 2;
        }

        long v = 0;
        for (int d = i; d < numEnd; d++)
        {
            int digit = line[d] - '0';
            if (v > (long.MaxValue - digit) / 10)
            {
                return 2;
            }

            v = (v * 10) + digit;
        }

        count = v;
        return 0;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'\f' or (byte)'\v';
}
