using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// The tree index: a file's SHA-256 by root, path and the stat it had when hashed, and an object's
/// time and hash by its size and ETag. <see cref="TreeIndex"/> is the SQLite implementation; another passes
/// <c>TreeIndexConformance</c> in the tests.
/// </summary>
internal interface ITreeIndex : IDisposable
{
    /// <summary>
    /// What Haul knows of an object it wrote or inspected (its mtime and SHA-256 live in object metadata,
    /// which listings do not return): valid while the object's size and ETag are the same.
    /// </summary>
    (long MtimeTicks, Hash256 Sha256)? LookupObject(string root, string path, long size, string etag);

    void StoreObject(string root, string path, long size, string etag, long mtimeTicks, Hash256 sha256);

    Hash256? Lookup(string root, string path, FileStat st);

    void Store(string root, string path, FileStat st, Hash256 hash);

    void Forget(string root, string path);

    void Flush();
}
