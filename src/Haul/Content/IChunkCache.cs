namespace Haul.Content;

/// <summary>
/// Remembered chunk lists of files, valid while a file's size, mtime, inode and ctime are unchanged,
/// so a file that did not change is never read again to chunk it (a re-sent tree, the old version a
/// delta is built from).
/// </summary>
internal interface IChunkCache
{
    List<ChunkInfo>? Get(string fullPath, FileStat st, FastCdc cdc);

    void Put(string fullPath, FileStat st, FastCdc cdc, IReadOnlyList<ChunkInfo> chunks);

    /// <summary>
    /// Where on this node chunks with these hashes may be found (any file whose chunk list was put), a
    /// few places each. A hint only: the file may have changed since, so the caller re-hashes what it reads.
    /// Places <paramref name="allow"/> refuses are left out before the few are picked.
    /// </summary>
    Dictionary<Hash256, List<(string Path, long Offset)>> Locate(IReadOnlyCollection<Hash256> hashes, Func<string, bool>? allow = null);

    /// <summary>Makes what was put durable and releases the database for other writers.</summary>
    void Flush();
}

internal static class ChunkCacheExtensions
{
    /// <summary>Files from this size on are looked up in the cache before they are read.</summary>
    public const long LookupFrom = 1 << 20;

    /// <summary>The file's chunks: from the cache when its stat still matches, else read, cut, hashed and remembered.</summary>
    public static List<ChunkInfo> ChunkFile(this IChunkCache? cache, string fullPath, long size, FastCdc cdc)
    {
        if (cache is null)
        {
            return FileChunker.Chunk(fullPath, size, cdc);
        }

        // A small file is read and hashed about as fast as its entry is looked up, so it is only
        // remembered (for the node's chunk index), never looked up.
        var before = Native.Stat(fullPath);
        if (before.Size == size && size >= LookupFrom && cache.Get(fullPath, before, cdc) is { } known)
        {
            return known;
        }

        var chunks = FileChunker.Chunk(fullPath, size, cdc);
        // Remember only what was read from an unchanging file: a write during the read changes mtime or ctime.
        if (Native.Stat(fullPath) == before)
        {
            cache.Put(fullPath, before, cdc, chunks);
        }

        return chunks;
    }
}
