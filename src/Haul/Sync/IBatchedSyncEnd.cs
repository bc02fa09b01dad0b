using Haul.Transfer;

namespace Haul.Sync;

/// <summary>
/// The capability of an end that moves files in batches, each one transfer, and changes them by request
/// (a peer's folder: one round trip per few thousand files, not per file). Runners ask for the
/// capability, not for the type behind it: such an end reads and writes no single file as a stream, and
/// pairs with a local folder.
/// </summary>
internal interface IBatchedSyncEnd : ISyncEnd
{
    /// <summary>Ask the far side for every file's SHA-256 in the listing (check, --checksum).</summary>
    bool ListWithHashes { get; set; }

    /// <summary>Rate policy for pushes.</summary>
    Transfer.Congestion.RatePolicy? Rate { get; set; }

    /// <summary>Chunk bytes that crossed the wire in pushes (after the delta), for the summary.</summary>
    long SentChunkBytes { get; }

    /// <summary>Who holds the far side, as it names a conflict copy ("lab-b").</summary>
    string OwnerName { get; }

    /// <summary>Identifies the far side for saved bisync listings.</summary>
    string StateKey { get; }

    string BackupSubPath(string backupDir);

    Task<SendResult> PushAsync(LocalEnd from, IReadOnlyList<Content.SyncEntry> files, CancellationToken ct, IReadOnlyList<string>? reuseFrom = null);

    Task PullAsync(LocalEnd into, IReadOnlyList<Content.SyncEntry> files, CancellationToken ct, IReadOnlyList<string>? reuseFrom = null);

    Task SetTimesAsync(IReadOnlyList<(string Path, long MtimeTicks)> items, CancellationToken ct);

    Task RemoveAsync(IReadOnlyList<string> paths, string? backupDir, bool copy, CancellationToken ct);

    Task RenameAsync(IReadOnlyList<(string From, string To)> moves, CancellationToken ct);
}
