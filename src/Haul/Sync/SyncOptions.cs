namespace Haul.Sync;

/// <summary>How a run behaves; validated before anything is touched.</summary>
internal sealed record SyncOptions
{
    public SyncMode Mode { get; init; } = SyncMode.Sync;

    public bool DryRun { get; init; }

    /// <summary>Compare by SHA-256, re-reading every file, instead of size and mtime.</summary>
    public bool Checksum { get; init; }

    /// <summary>Compare by size alone: same size is the same file, whatever the times.</summary>
    public bool SizeOnly { get; init; }

    /// <summary>A file the destination already has is never copied over or touched.</summary>
    public bool IgnoreExisting { get; init; }

    /// <summary>sync: destination files the filter leaves out are deleted too (the destination is listed unfiltered).</summary>
    public bool DeleteExcluded { get; init; }

    public SyncFilter Filter { get; init; } = SyncFilter.Everything;

    /// <summary>Where deleted and overwritten destination files are moved, on the destination's end.</summary>
    public string? BackupDir { get; init; }

    /// <summary>Files copied in parallel (rclone's --transfers).</summary>
    public int Transfers { get; init; } = 8;

    /// <summary>Refuse a run that would delete more than this many files (-1: no limit).</summary>
    public long MaxDelete { get; init; } = -1;

    public BandwidthSchedule? BandwidthLimit { get; init; }

    /// <summary>A single file as the source (rclone's "copy dir/f1.txt OUT/"): only this path is compared on either end.</summary>
    public string? OnlyPath { get; init; }
}
