using System.Globalization;

namespace Haul.Cli;

internal static class Units
{
    public static string Bytes(double b)
    {
        string[] u = ["B", "KB", "MB", "GB", "TB"];
        int i = 0;
        while (b >= 1000 && i < u.Length - 1)
        {
            b /= 1000;
            i++;
        }

        return i == 0 ? $"{b:0} {u[i]}" : $"{b:0.0} {u[i]}";
    }

    public static string Duration(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0)
        {
            return "--:--";
        }

        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }

    /// <summary>Parses a rate like 500M, 2.5G or 800k (bytes per second; a trailing 'bit' means bits).</summary>
    public static double ParseRate(string text)
    {
        string t = text.Trim();
        double mul = 1;
        bool bits = t.EndsWith("bit", StringComparison.OrdinalIgnoreCase);
        if (bits)
        {
            t = t[..^3];
        }

        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            mul = char.ToUpperInvariant(t[^1]) switch
            {
                'K' => 1e3,
                'M' => 1e6,
                'G' => 1e9,
                'T' => 1e12,
                _ => throw new HaulException(ErrorCode.Usage, $"'{text}' is not a rate", "write it like 500M (bytes/s) or 800Mbit"),
            };
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v <= 0)
        {
            throw new HaulException(ErrorCode.Usage, $"'{text}' is not a rate", "write it like 500M (bytes/s) or 800Mbit");
        }

        return v * mul / (bits ? 8 : 1);
    }
}
