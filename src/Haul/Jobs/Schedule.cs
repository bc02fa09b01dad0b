using System.Globalization;

namespace Haul.Jobs;

/// <summary>
/// When a job runs: a cron expression of five fields (minute hour day-of-month month day-of-week; each
/// '*', a number, a range 'a-b', a list 'a,b', with an optional step '/n'; day-of-week 0-7 with 0 and 7
/// for Sunday; when both day fields are restricted either may match, as in cron), or an interval such
/// as "30s", "15m", "6h" counted from the previous run. Times are the node's local time.
/// </summary>
internal sealed class Schedule
{
    private readonly ulong _minutes;
    private readonly uint _hours;
    private readonly uint _days;
    private readonly ushort _months;
    private readonly byte _weekdays;
    private readonly bool _daysRestricted;
    private readonly bool _weekdaysRestricted;

    private Schedule(string text, TimeSpan? interval, ulong minutes = 0, uint hours = 0, uint days = 0, ushort months = 0, byte weekdays = 0, bool dr = false, bool wr = false)
    {
        Text = text;
        Interval = interval;
        (_minutes, _hours, _days, _months, _weekdays, _daysRestricted, _weekdaysRestricted) = (minutes, hours, days, months, weekdays, dr, wr);
    }

    public string Text { get; }

    public TimeSpan? Interval { get; }

    public static Schedule Parse(string text)
    {
        string t = text.Trim();
        if (t.Length >= 2 && !t.Contains(' ') && char.IsAsciiLetter(t[^1]) && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0)
        {
            var span = t[^1] switch
            {
                's' => TimeSpan.FromSeconds(v),
                'm' => TimeSpan.FromMinutes(v),
                'h' => TimeSpan.FromHours(v),
                'd' => TimeSpan.FromDays(v),
                _ => throw Bad(text, $"unknown unit '{t[^1]}'"),
            };
            if (span < TimeSpan.FromSeconds(1))
            {
                throw Bad(text, "an interval must be at least 1s");
            }

            return new Schedule(t, span);
        }

        var f = t.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length != 5)
        {
            throw Bad(text, $"a cron expression has 5 fields (minute hour day month weekday), this has {f.Length}");
        }

        ulong minutes = Field(f[0], 0, 59, "minute", text, out _);
        ulong hours = Field(f[1], 0, 23, "hour", text, out _);
        ulong days = Field(f[2], 1, 31, "day of month", text, out bool dr);
        ulong months = Field(f[3], 1, 12, "month", text, out _);
        ulong weekdays = Field(f[4], 0, 7, "day of week", text, out bool wr);
        if ((weekdays & (1UL << 7)) != 0)
        {
            weekdays |= 1; // 7 is Sunday too
        }

        return new Schedule(t, null, minutes, (uint)hours, (uint)days, (ushort)months, (byte)(weekdays & 0x7F), dr, wr);
    }

    /// <summary>The first run strictly after <paramref name="after"/> (and, for intervals, <paramref name="after"/> + interval).</summary>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        if (Interval is { } i)
        {
            return after + i;
        }

        // Minute by minute would be up to 527k steps a year; skip whole days and hours that cannot match.
        var t = new DateTimeOffset(after.Year, after.Month, after.Day, after.Hour, after.Minute, 0, after.Offset).AddMinutes(1);
        for (int guard = 0; guard < 366 * 24 * 60 * 5; guard++)
        {
            if ((_months & (1 << t.Month)) == 0)
            {
                t = new DateTimeOffset(t.Year, t.Month, 1, 0, 0, 0, t.Offset).AddMonths(1);
                continue;
            }

            if (!DayMatches(t))
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, t.Offset).AddDays(1);
                continue;
            }

            if ((_hours & (1u << t.Hour)) == 0)
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, t.Offset).AddHours(1);
                continue;
            }

            if ((_minutes & (1UL << t.Minute)) == 0)
            {
                t = t.AddMinutes(1);
                continue;
            }

            return t;
        }

        throw new HaulException(ErrorCode.Usage, $"schedule '{Text}' never fires", "check the day and month fields");
    }

    private bool DayMatches(DateTimeOffset t)
    {
        bool dom = (_days & (1u << t.Day)) != 0;
        bool dow = (_weekdays & (1 << (int)t.DayOfWeek)) != 0;
        return _daysRestricted && _weekdaysRestricted ? dom || dow : dom && dow;
    }

    private static ulong Field(string field, int min, int max, string name, string whole, out bool restricted)
    {
        restricted = field != "*";
        ulong bits = 0;
        foreach (var part in field.Split(','))
        {
            string range = part;
            int step = 1;
            int slash = part.IndexOf('/');
            if (slash >= 0)
            {
                if (!int.TryParse(part[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step <= 0)
                {
                    throw Bad(whole, $"bad step in {name} field '{field}'");
                }

                range = part[..slash];
            }

            int lo, hi;
            if (range == "*")
            {
                (lo, hi) = (min, max);
            }
            else if (range.Split('-') is [var a, var b] && int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out lo) && int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out hi))
            {
            }
            else if (int.TryParse(range, NumberStyles.None, CultureInfo.InvariantCulture, out lo))
            {
                hi = slash >= 0 ? max : lo;
            }
            else
            {
                throw Bad(whole, $"'{part}' is not a number, range or '*' in the {name} field");
            }

            if (lo < min || hi > max || lo > hi)
            {
                throw Bad(whole, $"{name} '{part}' is outside {min}-{max}");
            }

            for (int v = lo; v <= hi; v += step)
            {
                bits |= 1UL << v;
            }
        }

        return bits;
    }

    private static HaulException Bad(string text, string why) =>
        new(ErrorCode.Usage, $"schedule '{text}': {why}", "use cron (\"0 2 * * *\" = 02:00 daily) or an interval (30s, 15m, 6h)");
}
