namespace Haul.Operations;

/// <summary>What a transfer the node runs for a client does (JSON: "send", "pull", "sync", "copy", "check", "bisync").</summary>
internal enum TransferKind
{
    Send,
    Pull,
    Sync,
    Copy,
    Check,
    Bisync,
}

/// <summary>Where a transfer the node runs for a client stands (JSON: the lower-case name).</summary>
internal enum TransferState
{
    Queued,
    Running,
    Paused,
    Done,
    Failed,
    Cancelled,
}

internal static class TransferNames
{
    public static string Wire(this TransferKind k) => k switch
    {
        TransferKind.Send => "send",
        TransferKind.Pull => "pull",
        TransferKind.Sync => "sync",
        TransferKind.Check => "check",
        TransferKind.Bisync => "bisync",
        _ => "copy",
    };

    public static string Wire(this TransferState s) => s switch
    {
        TransferState.Queued => "queued",
        TransferState.Running => "running",
        TransferState.Paused => "paused",
        TransferState.Done => "done",
        TransferState.Failed => "failed",
        _ => "cancelled",
    };

    /// <summary>A kind as a client names it; a one-line error otherwise.</summary>
    public static TransferKind ParseKind(string? text) => text switch
    {
        null or "send" => TransferKind.Send,
        "pull" => TransferKind.Pull,
        "sync" => TransferKind.Sync,
        "copy" => TransferKind.Copy,
        "check" => TransferKind.Check,
        "bisync" => TransferKind.Bisync,
        _ => throw new HaulException(ErrorCode.Usage, $"kind '{text}' is not send, pull, sync, copy, check or bisync", "set \"kind\" to one of them"),
    };

    /// <summary>True for the kinds between two ends (sync, copy, check, bisync).</summary>
    public static bool BetweenEnds(this TransferKind k) => k is TransferKind.Sync or TransferKind.Copy or TransferKind.Check or TransferKind.Bisync;
}
