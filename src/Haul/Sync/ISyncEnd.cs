using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// One side of a sync: a local folder, an S3 prefix, a peer's folder. Listings stream in ordinal path
/// order and are never held whole; writes are atomic (nothing appears at a final path until complete);
/// deletions happen only when the runner decides the whole run succeeded.
/// </summary>
internal interface ISyncEnd : IAsyncDisposable
{
    /// <summary>How the user named it, for messages.</summary>
    string Display { get; }

    /// <summary>Whether <see cref="WriteAsync"/> needs the SHA-256 before the bytes (object metadata is set first).</summary>
    bool NeedsHashBeforeWrite { get; }

    /// <summary>Whether it exists yet (a destination may not; a source must).</summary>
    Task<bool> ExistsAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<SyncEntry> ListAsync(SyncFilter filter, CancellationToken cancellationToken = default);

    /// <summary>The entry with its exact mtime and, where known, SHA-256 (an object store's listing lacks its metadata).</summary>
    Task<SyncEntry> ResolveAsync(SyncEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Fills in the entry's SHA-256 (from an index or metadata where possible, otherwise by reading).</summary>
    Task<Content.Hash256> HashAsync(SyncEntry entry, bool reread, CancellationToken cancellationToken = default);

    Task<Stream> OpenReadAsync(SyncEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Writes the file from the stream, sets its modification time, then makes it visible at its path atomically.</summary>
    Task WriteAsync(SyncEntry entry, Stream content, Content.Hash256? sha256, CancellationToken cancellationToken = default);

    /// <summary>Sets the modification time of a file whose content is already right (rclone does the same).</summary>
    Task SetMtimeAsync(SyncEntry entry, long mtimeTicks, CancellationToken cancellationToken = default);

    Task DeleteAsync(SyncEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Moves the file to the same relative path under <paramref name="backupRoot"/> on this end (--backup-dir).</summary>
    Task BackupAsync(SyncEntry entry, string backupRoot, CancellationToken cancellationToken = default);
}
