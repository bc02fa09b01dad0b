namespace Haul.Sync;

/// <summary>
/// The capability of an end where folders exist apart from their files (a local folder, a peer's
/// folder; not an object store, where a "folder" is only a key prefix): a sync removes the folders the
/// source does not have, as rclone sync does.
/// </summary>
internal interface IFolderEnd : ISyncEnd
{
    /// <summary>
    /// Removes each folder that is empty, in the order given (deepest first, so a folder emptied by
    /// removing its subfolders goes too); a folder that is not empty, is gone, or is a link is left.
    /// Returns how many were removed.
    /// </summary>
    Task<long> RemoveEmptyDirectoriesAsync(IReadOnlyList<string> deepestFirst, CancellationToken cancellationToken = default);
}
