namespace Haul.Sync;

/// <summary>What a run did; updated from parallel workers with Interlocked.</summary>
internal sealed class SyncStats
{
    public long Listed;
    public long Same;
    public long Copied;

    /// <summary>Files and bytes planned to copy so far (grows while the ends are listed and compared).</summary>
    public long PlannedFiles;

    public long PlannedBytes;

    /// <summary>Files only in the destination that a sync deletes (or, in a dry run, would delete).</summary>
    public long PlannedDeletes;

    /// <summary>Files whose content matches and only the time differs: a run sets it, a dry run would.</summary>
    public long PlannedTouches;

    /// <summary>Bytes copied so far, counted as they are read (a large file moves this while it copies).</summary>
    public long BytesMoved;
    public long CopiedBytes;
    public long Touched;
    public long Deleted;
    public long BackedUp;
    public long Errors;
    public long Differences;
    public long SkippedDeletes;

    /// <summary>Destination folders the source does not have, removed once empty (sync only; in a dry run, planned).</summary>
    public long FoldersRemoved;

    /// <summary>Symlinks the local ends left out (no -L/--copy-links, or broken, looping or to a special file).</summary>
    public long SkippedLinks;

    /// <summary>Chunk bytes sent to a peer after the delta (peer destinations only; -1 when not applicable).</summary>
    public long SentBytes = -1;

    public TimeSpan Elapsed { get; set; }
}
