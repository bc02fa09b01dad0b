namespace Haul.Sync;

internal enum SyncActionKind
{
    /// <summary>Only at the source: copy it.</summary>
    New,

    /// <summary>At both, content differs: copy over it (after --backup-dir keeps the old one).</summary>
    Changed,

    /// <summary>At both, same content, different mtime: set the destination's mtime only.</summary>
    Touch,

    /// <summary>Only at the destination: delete it (sync) or report it (check).</summary>
    Delete,

    /// <summary>A folder only at the destination, empty once its files are deleted: remove it (sync; Path is the folder's).</summary>
    RemoveFolder,
}
