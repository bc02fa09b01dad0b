using System.Globalization;

namespace Haul.Sync;

/// <summary>
/// rclone's --bwlimit: either one rate ("10M", "off") or a timetable of "HH:MM,RATE" entries separated by
/// spaces, each in force from its time until the next (wrapping at midnight). Rates are bytes per second
/// with K/M/G suffixes (powers of 1024, as rclone reads them).
/// </summary>
internal sealed class BandwidthSchedule
{
    private readonly List<(int Minute, double Rate)> _slots;

    private BandwidthSchedule(List<(int Minute, double Rate)> slots) => _slots = slots;

    /// <summary>One rate all day (bytes per second).</summary>
    public static BandwidthSchedule Constant(double bytesPerSecond) => new([(0, bytesPerSecond)]);

    public static BandwidthSchedule Parse(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw Bad(text, "it is empty");
        }

        var slots = new List<(int, double)>();
        if (parts.Length == 1 && !parts[0].Contains(','))
        {
            slots.Add((0, ParseRate(parts[0], text)));
            return new BandwidthSchedule(slots);
        }

        foreach (var p in parts)
        {
            int comma = p.IndexOf(',');
            if (comma < 0 || !TimeOnly.TryParseExact(p[..comma], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
            {
                throw Bad(text, $"'{p}' is not HH:MM,RATE");
            }

            slots.Add((t.Hour * 60 + t.Minute, ParseRate(p[(comma + 1)..], text)));
        }

        slots.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return new BandwidthSchedule(slots);
    }

    /// <summary>Bytes per second in force at this local time; +∞ when off.</summary>
    public double RateAt(DateTime localTime)
    {
        int minute = (localTime.Hour * 60) + localTime.Minute;
        double rate = _slots[^1].Rate; // before the first slot of the day, yesterday's last one holds
        foreach (var (m, r) in _slots)
        {
            if (m <= minute)
            {
                rate = r;
            }
        }

        return rate;
    }

    private static double ParseRate(string s, string whole)
    {
        if (s.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return double.PositiveInfinity;
        }

        double mul = 1;
        string n = s;
        if (n.Length > 0 && char.IsLetter(n[^1]))
        {
            mul = char.ToUpperInvariant(n[^1]) switch
            {
                'B' => 1,
                'K' => 1024,
                'M' => 1024 * 1024,
                'G' => 1024d * 1024 * 1024,
                _ => throw Bad(whole, $"'{s}' has an unknown unit"),
            };
            n = n[..^1];
        }

        if (!double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v <= 0)
        {
            throw Bad(whole, $"'{s}' is not a rate");
        }

        return v * mul;
    }

    private static HaulException Bad(string text, string why) =>
        new(ErrorCode.Usage, $"--bwlimit '{text}': {why}", "write a rate like 10M, or a timetable like \"08:00,10M 18:00,off\"");
}
