namespace Haul.Sync;

/// <summary>What a run does, as rclone names it.</summary>
internal enum SyncMode
{
    /// <summary>New and changed files to the destination; never deletes.</summary>
    Copy,

    /// <summary>Make the destination match: copy, then (only if everything succeeded) delete extras.</summary>
    Sync,

    /// <summary>Compare both sides by size and SHA-256; change nothing.</summary>
    Check,
}
