namespace Haul.Content;

/// <summary>
/// One file at a sync end (what the listing frames of the folder protocol carry, so it sits below both). Path is relative, '/'-separated; listings come in ordinal order of Path so two
/// ends merge in one pass. MtimeTicks is UTC in 100 ns ticks (what the file system and rclone's S3 "mtime"
/// metadata both keep); Sha256 is filled when the end knows it without reading (index, object metadata).
/// </summary>
internal sealed record SyncEntry(string Path, long Size, long MtimeTicks)
{
    public Hash256? Sha256 { get; init; }

    /// <summary>An object's ETag, as listed (object stores only).</summary>
    public string? ETag { get; init; }

    /// <summary>True once MtimeTicks is the file's own time, not an object store's upload time.</summary>
    public bool Resolved { get; init; } = true;
}
