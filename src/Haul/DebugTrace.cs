using System.Diagnostics;

namespace Haul;

/// <summary>Stage timestamps on stderr when HAUL_DEBUG=1 (milliseconds since the process started), for finding where time goes.</summary>
internal static class DebugTrace
{
    private static readonly bool On = Environment.GetEnvironmentVariable("HAUL_DEBUG") == "1";
    private static readonly DateTime Started = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static void Mark(string what)
    {
        if (On)
        {
            Console.Error.WriteLine($"[t+{(DateTime.UtcNow - Started).TotalMilliseconds:0}ms] {what}");
        }
    }
}
