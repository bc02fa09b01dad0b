namespace Haul.Sync;

/// <summary>Which log lines of a run reach standard error (-q, the default, -v); a --log-file records them all.</summary>
internal enum SyncVerbosity
{
    /// <summary>Nothing (a run inside the node reports through its outcome).</summary>
    Silent,

    /// <summary>-q: errors and refused names only.</summary>
    Errors,

    /// <summary>The default: errors and notices (skipped deletions, conflicts), no line per file.</summary>
    Notices,

    /// <summary>-v: also one line per file copied, updated, touched or deleted.</summary>
    Actions,
}
