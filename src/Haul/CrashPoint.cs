namespace Haul;

/// <summary>
/// Named places in the journal and placement order where a crash test may kill the process
/// (HAUL_CRASH_AT=NAME or NAME:N, the N-th time that place is reached, default the first). The process
/// dies with SIGKILL, as from a power cut or the OOM killer: no finally blocks, no flush. Read once at
/// start; when unset each place costs one static bool test. Used by tests/…/CrashPointTests and
/// bench/chaos; the places are listed in docs/architecture.md ("Durability").
/// </summary>
internal static class CrashPoint
{
    /// <summary>Every place, in the order a transfer reaches them.</summary>
    public static readonly string[] All =
    [
        "chunk-written",    // receiver: a verified chunk written to its temporary file(s), not yet journaled
        "chunk-journaled",  // receiver: a batch journaled, CHUNK_DONE not yet sent
        "file-synced",      // receiver: a completed file fsynced, not yet renamed into place
        "file-placed",      // receiver: a file renamed to its final path
        "tree-placed",      // receiver: every file, folder and link in place and synced, receipt not yet signed
        "receipt-signed",   // receiver: transfer journaled done, receipt not yet sent
        "receipt-verified", // sender: receipt verified, not yet stored
    ];

    private static readonly string? Name;
    private static readonly int Nth = 1;
    private static readonly bool On;
    private static int _hits;

    static CrashPoint()
    {
        string? spec = Environment.GetEnvironmentVariable("HAUL_CRASH_AT");
        if (string.IsNullOrEmpty(spec))
        {
            return;
        }

        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        Name = colon < 0 ? spec : spec[..colon];
        if (colon >= 0 && int.TryParse(spec.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0)
        {
            Nth = n;
        }

        On = Array.IndexOf(All, Name) >= 0;
    }

    /// <summary>Kills this process here if HAUL_CRASH_AT names <paramref name="name"/> and this is its N-th arrival.</summary>
    public static void Reach(string name)
    {
        if (On && name == Name && Interlocked.Increment(ref _hits) == Nth)
        {
            Console.Error.WriteLine($"[crash point] {name}: killing this process");
            Console.Error.Flush();
            using var me = System.Diagnostics.Process.GetCurrentProcess();
            me.Kill(); // SIGKILL on Linux
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
