using System.Globalization;

namespace Haul;

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
    public static double ParseRate(string text) => Transfer.Congestion.RatePolicy.ParseRate(text);
}
