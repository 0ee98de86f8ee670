using System.Globalization;

namespace Orac.Ask;

/// <summary>A time range read from a phrase, with where it stood in the question.</summary>
internal sealed record TimeRange(DateTimeOffset From, DateTimeOffset Until, int Start, int End, string Phrase)
{
    /// <summary>"yesterday" or "last week" right after a comparison word: a shift of the new range rather than a range ("vs yesterday").</summary>
    public TimeSpan? Shift { get; init; }
}

/// <summary>
/// Time phrases (docs/ask.md "Reading questions", Time): reads ranges from tokens against a fixed clock and zone.
/// Marks the tokens it reads as used. Never throws: ranges outside years 1970–9000 are unreadable.
/// </summary>
internal sealed class TimePhrases
{
    private static readonly string[] s_days = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    private static readonly string[] s_dayShort = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    private static readonly Dictionary<string, int> s_numbers = new(StringComparer.Ordinal)
    {
        ["a"] = 1, ["an"] = 1, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7,
        ["eight"] = 8, ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12, ["fifteen"] = 15, ["twenty"] = 20,
        ["thirty"] = 30, ["forty"] = 40, ["fifty"] = 50, ["sixty"] = 60, ["ninety"] = 90, ["couple"] = 2, ["few"] = 3,
    };

    private readonly Question _q;
    private readonly DateTimeOffset _now;
    private readonly TimeZoneInfo _zone;
    private readonly DateTime _localNow;

    public TimePhrases(Question q, DateTimeOffset now, TimeZoneInfo zone)
    {
        _q = q;
        _now = now;
        _zone = zone;
        _localNow = TimeZoneInfo.ConvertTime(now, zone).DateTime;
    }

    /// <summary>Ranges read, in question order.</summary>
    public List<TimeRange> Ranges { get; } = [];

    /// <summary>The first phrase that looked like a time but could not be read ("since blorpday" → "blorpday").</summary>
    public string? Unreadable { get; private set; }

    /// <summary>"for 60 seconds", "for 2 minutes", "a 10s profile": the collection time asked for, seconds.</summary>
    public int? Seconds { get; private set; }

    private DateTime Today => _localNow.Date;

    /// <summary>Reads every phrase. <paramref name="delegated"/>: "for N minutes" is a collection time, not a range.</summary>
    public void Read(bool delegated)
    {
        var t = _q.Toks;
        for (int i = 0; i < t.Count; i++)
        {
            if (t[i].Used || t[i].Kind != TokKind.Word)
            {
                continue;
            }

            int consumed = TryAt(i, delegated);
            if (consumed > 0)
            {
                for (int k = i; k < Math.Min(t.Count, i + consumed); k++)
                {
                    t[k].Used = true;
                    t[k].UsedBy ??= "time";
                }

                i += consumed - 1;
            }
        }
    }

    // Tries every phrase starting at token i; returns how many tokens it read (0: none).
    private int TryAt(int i, bool delegated)
    {
        var w = _q.At(i);
        var next = _q.At(i + 1);

        switch (w)
        {
            case "now" or "currently":
                return 1;
            case "right" when next == "now":
                return 2;
            case "at" when next == "the" && _q.At(i + 2) == "moment":
                return 3;
            case "last" or "past" or "previous" or "recent" or "trailing":
                return LastN(i);
            case "the" when _q.At(i + 1) is "last" or "past" or "previous":
                int n = LastN(i + 1);
                return n > 0 ? n + 1 : 0;
            case "today":
                return DayWithWindow(i, Today, "today", wholeDayUntilNow: true);
            case "yesterday":
                return Yesterday(i);
            case "this":
                return This(i);
            case "since":
                return Since(i);
            case "on" when DayIndex(next) >= 0:
                return 1 + DayWithWindow(i + 1, LatestBefore(DayIndex(next)), "day", wholeDayUntilNow: false);
            case "between" or "from":
                return Window(i, Today);
            case "for" when DurationAt(i + 1, out var secs, out var used):
                return Duration(i, 1 + used, secs, delegated);
        }

        if (DayIndex(w) >= 0)
        {
            return DayWithWindow(i, LatestBefore(DayIndex(w)), "day", wholeDayUntilNow: false);
        }

        // "a 60-second profile", "10s", "over 2h", "api 3d": a bare duration ("an hour" alone is too vague: "cost an hour").
        if (w is not ("a" or "an") && DurationAt(i, out var s3, out var u3))
        {
            if (_q.At(i + u3) == "ago")
            {
                return u3 + 1;
            }

            return Duration(i, u3, s3, delegated);
        }

        if (LooksLikeDay(w))
        {
            Unreadable ??= _q.Toks[i].Text;
            return 1;
        }

        return 0;
    }

    // A duration read at i (n tokens): in a delegated question the collection time (at most an hour asked, 300 s
    // kept); otherwise a range ending now (a minute or more).
    private int Duration(int i, int n, double seconds, bool delegated)
    {
        if (delegated)
        {
            if (seconds <= 3600)
            {
                Seconds ??= (int)Math.Clamp(Math.Round(seconds), 1, 300);
            }

            return n;
        }

        if (seconds < 60)
        {
            return 0;
        }

        AddRange(_now - TimeSpan.FromSeconds(seconds), _now, i, i + n, _q.At(i));
        return n;
    }

    // "last hour", "last 2 hours", "past 15m", "last week", "last 7 days", "last monday", "last month".
    private int LastN(int i)
    {
        var next = _q.At(i + 1);
        if (DayIndex(next) >= 0)
        {
            return 1 + DayWithWindow(i + 1, LatestBefore(DayIndex(next)), "day", wholeDayUntilNow: false);
        }

        if (next == "night" || next == "evening")
        {
            return 0;
        }

        int j = i + 1;
        double count = 1;
        if (Number(_q.At(j), out var n) && n > 0)
        {
            count = n;
            j++;
            if (_q.At(j) is "or" && Number(_q.At(j + 1), out _))
            {
                j += 2; // "last 2 or 3 hours": the first
            }
        }
        else if (_q.At(j) is "couple" or "few" && _q.At(j + 1) == "of")
        {
            count = _q.At(j) == "couple" ? 2 : 3;
            j += 2;
        }
        else if (_q.At(j) is "half" && _q.At(j + 1) is "hour" or "an")
        {
            j += _q.At(j + 1) == "an" ? 2 : 1;
            AddRange(_now.AddMinutes(-30), _now, i, j + 1, "last half hour");
            return j + 1 - i;
        }
        else if (DurationAt(j, out var secs, out var used))
        {
            AddRange(_now - TimeSpan.FromSeconds(secs), _now, i, j + used, _q.At(j));
            return j + used - i;
        }

        var unit = UnitSeconds(_q.At(j));
        if (unit is null)
        {
            return 0;
        }

        var span = count * unit.Value;
        if (span > 3650.0 * 86400)
        {
            Unreadable ??= string.Join(' ', _q.Toks.Skip(i).Take(j - i + 1).Select(t => t.Text));
            return j + 1 - i;
        }

        var phrase = _q.At(i) + " " + (j > i + 1 ? _q.At(i + 1) + " " : "") + _q.At(j);
        AddRange(_now - TimeSpan.FromSeconds(span), _now, i, j + 1, phrase);
        return j + 1 - i;
    }

    private int Yesterday(int i)
    {
        var y = Today.AddDays(-1);
        var next = _q.At(i + 1);
        if (next is "morning")
        {
            AddLocal(y.AddHours(6), y.AddHours(12), i, i + 2, "yesterday morning");
            return 2;
        }

        if (next is "afternoon")
        {
            AddLocal(y.AddHours(12), y.AddHours(18), i, i + 2, "yesterday afternoon");
            return 2;
        }

        if (next is "evening")
        {
            AddLocal(y.AddHours(18), Today, i, i + 2, "yesterday evening");
            return 2;
        }

        return DayWithWindow(i, y, "yesterday", wholeDayUntilNow: false);
    }

    // "this morning", "this afternoon", "this week", "this month", "this hour".
    private int This(int i)
    {
        switch (_q.At(i + 1))
        {
            case "morning":
                AddLocal(Today.AddHours(6), Min(Today.AddHours(12), _localNow), i, i + 2, "this morning");
                return 2;
            case "afternoon":
                AddLocal(Today.AddHours(12), Min(Today.AddHours(18), _localNow), i, i + 2, "this afternoon");
                return 2;
            case "evening":
                AddLocal(Today.AddHours(18), Min(Today.AddDays(1), _localNow), i, i + 2, "this evening");
                return 2;
            case "week":
                AddLocal(Monday(Today), _localNow, i, i + 2, "this week");
                return 2;
            case "month":
                AddLocal(new DateTime(Today.Year, Today.Month, 1, 0, 0, 0, DateTimeKind.Unspecified), _localNow, i, i + 2, "this month");
                return 2;
            case "hour":
                AddRange(_now.AddHours(-1), _now, i, i + 2, "this hour");
                return 2;
        }

        return 0;
    }

    // "since Tuesday", "since 13:00", "since 1pm", "since yesterday", "since this morning", "since midnight", "since 2 hours ago".
    private int Since(int i)
    {
        int j = i + 1;
        if (_q.At(j) is "last" && DayIndex(_q.At(j + 1)) >= 0)
        {
            j++;
        }

        var w = _q.At(j);
        int day = DayIndex(w);
        if (day >= 0)
        {
            int extra = _q.At(j + 1) is "morning" ? 1 : 0;
            var d = LatestBefore(day);
            AddLocal(extra == 1 ? d.AddHours(6) : d, _localNow, i, j + 1 + extra, "since " + w);
            return j + 1 + extra - i;
        }

        switch (w)
        {
            case "yesterday":
                AddLocal(Today.AddDays(-1), _localNow, i, j + 1, "since yesterday");
                return j + 1 - i;
            case "today" or "midnight":
                AddLocal(Today, _localNow, i, j + 1, "since " + w);
                return j + 1 - i;
            case "this" when _q.At(j + 1) == "morning":
                AddLocal(Today.AddHours(6), _localNow, i, j + 2, "since this morning");
                return j + 2 - i;
            case "last" when _q.At(j + 1) is "week" or "month":
                AddRange(_now.AddDays(_q.At(j + 1) == "week" ? -7 : -30), _now, i, j + 2, "since last " + _q.At(j + 1));
                return j + 2 - i;
            case "the" when _q.At(j + 1) is "morning":
                AddLocal(Today.AddHours(6), _localNow, i, j + 2, "since the morning");
                return j + 2 - i;
        }

        if (Clock(j, allowBare: true, out var clock, out int used))
        {
            var from = Today + clock;
            if (from > _localNow)
            {
                from = from.AddDays(-1);
            }

            AddLocal(from, _localNow, i, j + used, "since " + w);
            return j + used - i;
        }

        if (DurationAt(j, out var secs, out var u) && _q.At(j + u) == "ago")
        {
            AddRange(_now - TimeSpan.FromSeconds(secs), _now, i, j + u + 1, "since ago");
            return j + u + 1 - i;
        }

        // "since the deploy", "since blorpday": a time we cannot read.
        int k = j;
        if (_q.At(k) is "the" or "our" or "last")
        {
            k++;
        }

        if (k < _q.Toks.Count)
        {
            Unreadable ??= _q.Toks[k].Text;
            return k + 1 - i;
        }

        return 1;
    }

    // A day (already chosen) possibly followed by a window: "yesterday 14:00–15:00", "yesterday from 2pm to 3pm",
    // "on Monday between 9 and 11". skip: tokens before the window start that belong to the day phrase.
    private int DayWithWindow(int i, DateTime day, string phrase, bool wholeDayUntilNow)
    {
        const int dayTokens = 1;
        int w = i + dayTokens;
        if (_q.At(w) is "at" or "around")
        {
            // "yesterday at 14:00": a point; read as that hour.
            if (Clock(w + 1, allowBare: false, out var at, out var atUsed))
            {
                AddLocal(day + at, day + at + TimeSpan.FromHours(1), i, w + 1 + atUsed, "day at");
                return w + 1 + atUsed - i;
            }
        }

        int win = Window(w, day, addPhraseStart: i);
        if (win > 0)
        {
            return w + win - i;
        }

        if (wholeDayUntilNow)
        {
            AddLocal(day, _localNow, i, w, phrase);
        }
        else
        {
            AddLocal(day, day.AddDays(1), i, w, phrase);
        }

        return dayTokens;
    }

    // "between 9 and 11", "from 09:00 to 11:00", "14:00–15:00", "14:00-15:00", "2-3pm", "2pm to 3pm" on the given day.
    private int Window(int i, DateTime day, int addPhraseStart = -1)
    {
        int start = addPhraseStart >= 0 ? addPhraseStart : i;
        var w = _q.At(i);
        if (w is "between" or "from")
        {
            if (Clock(i + 1, allowBare: true, out var a, out int ua))
            {
                int sep = i + 1 + ua;
                if (_q.At(sep) is "and" or "to" or "until" or "till" or "-" or "through" or "thru"
                    && Clock(sep + 1, allowBare: true, out var b, out int ub))
                {
                    (a, b) = Meridiem(a, b, i + 1, ua, sep + 1, ub);
                    int end = sep + 1 + ub;
                    if (addPhraseStart < 0 && TrailingDay(end, out var trailing, out int dayUsed))
                    {
                        // "between 14:00 and 15:00 yesterday", "from 9 to 11 on monday": the day after the window.
                        day = trailing;
                        end += dayUsed;
                    }

                    AddLocal(day + a, day + b, start, end, "window");
                    return end - i;
                }
            }

            return 0;
        }

        // "14:00-15:00", "2-3pm" as one token
        if (w.Contains('-', StringComparison.Ordinal))
        {
            var parts = w.Split('-');
            if (parts.Length == 2 && ClockText(parts[0], true, out var a) && ClockText(parts[1], true, out var b) && (HasClockMark(parts[0]) || HasClockMark(parts[1])))
            {
                if (parts[1].EndsWith("pm", StringComparison.Ordinal) && !parts[0].EndsWith("am", StringComparison.Ordinal) && a.TotalHours < 12 && a.TotalHours + 12 <= b.TotalHours)
                {
                    a += TimeSpan.FromHours(12);
                }

                AddLocal(day + a, day + b, start, i + 1, "window");
                return 1;
            }
        }

        // "14:00 15:00" (an en dash split them), "14:00 to 15:00", "2pm to 3pm"
        if (Clock(i, allowBare: false, out var c1, out int u1))
        {
            int sep = i + u1;
            int skipSep = _q.At(sep) is "to" or "until" or "till" or "-" or "and" ? 1 : 0;
            if (Clock(sep + skipSep, allowBare: skipSep == 1, out var c2, out int u2))
            {
                (c1, c2) = Meridiem(c1, c2, i, u1, sep + skipSep, u2);
                AddLocal(day + c1, day + c2, start, sep + skipSep + u2, "window");
                return sep + skipSep + u2 - i;
            }
        }

        return 0;
    }

    // "yesterday", "today", "on monday", "monday" at i: the day a window before it is on.
    private bool TrailingDay(int i, out DateTime day, out int used)
    {
        day = Today;
        used = 0;
        var w = _q.At(i);
        if (w == "yesterday")
        {
            (day, used) = (Today.AddDays(-1), 1);
        }
        else if (w == "today")
        {
            used = 1;
        }
        else if (w is "on" or "last" && DayIndex(_q.At(i + 1)) >= 0)
        {
            (day, used) = (LatestBefore(DayIndex(_q.At(i + 1))), 2);
        }
        else if (DayIndex(w) >= 0)
        {
            (day, used) = (LatestBefore(DayIndex(w)), 1);
        }

        return used > 0;
    }

    // "between 2 and 3pm": the pm of the end applies to a bare start.
    private (TimeSpan, TimeSpan) Meridiem(TimeSpan a, TimeSpan b, int ai, int au, int bi, int bu)
    {
        bool aMarked = HasClockMark(string.Join("", _q.Toks.Skip(ai).Take(au).Select(t => t.Lower)));
        bool bPm = string.Join("", _q.Toks.Skip(bi).Take(bu).Select(t => t.Lower)).EndsWith("pm", StringComparison.Ordinal);
        if (!aMarked && bPm && a.TotalHours < 12 && a.TotalHours + 12 <= b.TotalHours)
        {
            a += TimeSpan.FromHours(12);
        }

        return (a, b);
    }

    private static bool HasClockMark(string s) => s.Contains(':', StringComparison.Ordinal) || s.EndsWith("am", StringComparison.Ordinal) || s.EndsWith("pm", StringComparison.Ordinal) || s.EndsWith('h') || s is "noon" or "midnight";

    // A clock time at token i: "14:00", "9:30", "2pm", "2 pm", "14h", "noon", "midnight", and (allowBare) "9", "13".
    private bool Clock(int i, bool allowBare, out TimeSpan t, out int used)
    {
        used = 0;
        t = default;
        var w = _q.At(i);
        if (w.Length == 0)
        {
            return false;
        }

        if (_q.At(i + 1) is "am" or "pm" or "a.m" or "p.m" && ClockText(w + (_q.At(i + 1).StartsWith('a') ? "am" : "pm"), false, out t))
        {
            used = 2;
            return true;
        }

        if (ClockText(w, allowBare, out t))
        {
            used = 1;
            return true;
        }

        return false;
    }

    private static bool ClockText(string w, bool allowBare, out TimeSpan t)
    {
        t = default;
        if (w == "noon" || w == "midday")
        {
            t = TimeSpan.FromHours(12);
            return true;
        }

        if (w == "midnight")
        {
            t = TimeSpan.Zero;
            return true;
        }

        bool pm = w.EndsWith("pm", StringComparison.Ordinal), am = w.EndsWith("am", StringComparison.Ordinal);
        var s = pm || am ? w[..^2] : w;
        bool hSuffix = !pm && !am && s.EndsWith('h') && s.Length > 1;
        if (hSuffix)
        {
            s = s[..^1];
        }

        int hour, minute = 0;
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            colon = s.IndexOf('.', StringComparison.Ordinal) is var dot && dot > 0 && (pm || am) ? dot : -1;
        }

        if (colon >= 0)
        {
            if (!int.TryParse(s.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out hour)
                || s.Length - colon - 1 != 2
                || !int.TryParse(s.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out minute))
            {
                return false;
            }
        }
        else
        {
            if (!(pm || am || hSuffix || allowBare) || s.Length is 0 or > 2 || !int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out hour))
            {
                return false;
            }
        }

        if (pm || am)
        {
            if (hour is < 1 or > 12)
            {
                return false;
            }

            hour = (hour % 12) + (pm ? 12 : 0);
        }

        if (hour is < 0 or > 24 || minute is < 0 or > 59 || (hour == 24 && minute != 0))
        {
            return false;
        }

        t = new TimeSpan(hour, minute, 0);
        return true;
    }

    // A duration at token i: "60 seconds", "2 minutes", "10s", "15m", "2h", "3d", "a minute", "90sec", "60-second", "2 hrs".
    private bool DurationAt(int i, out double seconds, out int used)
    {
        seconds = 0;
        used = 0;
        var w = _q.At(i);
        if (w.Length == 0)
        {
            return false;
        }

        if (Number(w, out var n) && n > 0 && w != "a" && w != "an" || (w is "a" or "an" && UnitSeconds(_q.At(i + 1)) is not null))
        {
            if (w is "a" or "an")
            {
                n = 1;
            }

            if (UnitSeconds(_q.At(i + 1)) is { } unit)
            {
                seconds = n * unit;
                used = 2;
                return seconds <= 3650.0 * 86400;
            }

            return false;
        }

        // "half a minute"
        if (w == "half" && _q.At(i + 1) is "a" or "an" && UnitSeconds(_q.At(i + 2)) is { } hu)
        {
            seconds = hu / 2;
            used = 3;
            return true;
        }

        // one token: digits then a unit ("10s", "15m", "2h", "3d", "90sec", "5min", "60-second")
        int k = 0;
        while (k < w.Length && (char.IsAsciiDigit(w[k]) || (w[k] == '.' && k > 0)))
        {
            k++;
        }

        if (k == 0 || k == w.Length || k > 7)
        {
            return false;
        }

        var unitText = w[k..].TrimStart('-');
        if (UnitSeconds(unitText) is { } u1 && double.TryParse(w.AsSpan(0, k), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) && v > 0)
        {
            seconds = v * u1;
            used = 1;
            return seconds <= 3650.0 * 86400;
        }

        return false;
    }

    private static double? UnitSeconds(string w) => w switch
    {
        "s" or "sec" or "secs" or "second" or "seconds" => 1,
        "m" or "min" or "mins" or "minute" or "minutes" => 60,
        "h" or "hr" or "hrs" or "hour" or "hours" => 3600,
        "d" or "day" or "days" => 86400,
        "w" or "wk" or "wks" or "week" or "weeks" => 7 * 86400,
        "month" or "months" => 30 * 86400,
        _ => null,
    };

    /// <summary>A count: digits ("15", "2.5") or a number word ("five").</summary>
    public static bool Number(string w, out double n)
    {
        if (s_numbers.TryGetValue(w, out var k))
        {
            n = k;
            return true;
        }

        n = 0;
        if (w.Length is 0 or > 7 || !char.IsAsciiDigit(w[0]))
        {
            return false;
        }

        foreach (var c in w)
        {
            if (!char.IsAsciiDigit(c) && c != '.')
            {
                return false;
            }
        }

        return double.TryParse(w, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out n) && double.IsFinite(n);
    }

    /// <summary>0 = Sunday … 6 = Saturday; -1 when <paramref name="w"/> is no day name ("tuesday", "tues", "tue", "tuesdays").</summary>
    public static int DayIndex(string w)
    {
        for (int d = 0; d < 7; d++)
        {
            if (w == s_days[d] || w == s_days[d] + "s" || w == s_dayShort[d] || (w.Length >= 3 && s_days[d].StartsWith(w, StringComparison.Ordinal) && w.Length > 3))
            {
                return d;
            }
        }

        return -1;
    }

    // "blorpday", "tuseday": a word that wants to be a day.
    private static bool LooksLikeDay(string w) =>
        w.Length > 4 && w.EndsWith("day", StringComparison.Ordinal) && w.All(char.IsAsciiLetter)
        && w is not ("today" or "yesterday" or "someday" or "everyday" or "holiday" or "birthday" or "payday" or "midday" or "doomsday" or "weekday" or "workday");

    // The latest such day strictly before today (a week ago when today is that day).
    private DateTime LatestBefore(int dayOfWeek)
    {
        int back = ((int)Today.DayOfWeek - dayOfWeek + 7) % 7;
        return Today.AddDays(back == 0 ? -7 : -back);
    }

    private static DateTime Monday(DateTime d) => d.AddDays(-(((int)d.DayOfWeek + 6) % 7));

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private void AddLocal(DateTime fromLocal, DateTime untilLocal, int start, int end, string phrase) =>
        AddRange(At(fromLocal), At(untilLocal), start, end, phrase);

    private DateTimeOffset At(DateTime local)
    {
        var l = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return new DateTimeOffset(l, _zone.GetUtcOffset(l));
    }

    private void AddRange(DateTimeOffset from, DateTimeOffset until, int start, int end, string phrase)
    {
        if (until <= from || from.Year < 1970 || until.Year > 9000)
        {
            Unreadable ??= string.Join(' ', _q.Toks.Skip(start).Take(Math.Max(1, end - start)).Select(t => t.Text));
            return;
        }

        Ranges.Add(new TimeRange(from, until, start, end, phrase));
    }
}
