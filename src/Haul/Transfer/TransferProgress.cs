namespace Haul.Transfer;

/// <summary>Where a transfer stands (JSON and the CLI's --json: the lower-case name).</summary>
internal enum TransferPhase
{
    Queued,
    Connect,
    Scan,
    Transfer,
    Notice,
    Sync,
    Copy,
    Check,
    Bisync,
    Done,
}

internal static class TransferPhaseNames
{
    public static string Wire(this TransferPhase p) => p switch
    {
        TransferPhase.Queued => "queued",
        TransferPhase.Connect => "connect",
        TransferPhase.Scan => "scan",
        TransferPhase.Transfer => "transfer",
        TransferPhase.Notice => "notice",
        TransferPhase.Sync => "sync",
        TransferPhase.Copy => "copy",
        TransferPhase.Check => "check",
        TransferPhase.Bisync => "bisync",
        _ => "done",
    };
}

/// <summary>A progress snapshot for a sender's display. Bytes count file bytes in place (deduplicated chunks count once per place).</summary>
internal sealed record TransferProgress(TransferPhase Phase, long BytesDone, long BytesTotal, int FilesDone, int FilesTotal, double RateBytesPerSec, string Mode, string? Notice = null);
