using Haul.Content;
using Haul.Security;
using Haul.State;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>
/// The receiver's planner: decides what need not cross the wire. Files already in place (same size and
/// mtime, rsync's quick check, and the manifest's chunks), chunks journaled as written in an earlier
/// attempt (re-verified in the temporary copies), and chunks found in older versions of the files, in
/// files under the tree the manifest no longer names, in files a sync is about to delete, and wherever
/// the node's chunk index places them within what the sending peer may read. Everything taken from this
/// node is re-hashed before it is written (through the <see cref="TreePlacer"/>) and journaled.
/// A transfer whose remaining writes would not fit on the disk is refused here, before anything is written.
/// </summary>
internal sealed class ReceivePlanner
{
    /// <summary>Free space a transfer must leave on the receiving file system: this, or a twentieth of a smaller one.</summary>
    internal const long DiskReserve = 256L << 20;

    private static readonly FastCdc DefaultCdc = new();

    private readonly ReceivePlan _plan;
    private readonly Manifest _manifest;
    private readonly string _root;
    private readonly bool _reuseUnnamed;
    private readonly IReadOnlyList<string> _reuseFrom;
    private readonly INodeCatalog _store;
    private readonly IChunkCache? _chunkCache;
    private readonly ILogger _log;

    /// <param name="plan">The manifest's plan (its per-file remaining counts are lowered for files in place).</param>
    /// <param name="options">The destination root and what may be reused.</param>
    /// <param name="store">The transfer journal and the folders shared with peers (the reuse scope).</param>
    /// <param name="chunkCache">Remembered chunk lists and the node's chunk index; null: files are read and cut.</param>
    /// <param name="log">Where a refusal is logged.</param>
    public ReceivePlanner(ReceivePlan plan, ReceiveOptions options, INodeCatalog store, IChunkCache? chunkCache, ILogger log)
    {
        _plan = plan;
        _manifest = plan.Manifest;
        _root = options.Root;
        _reuseUnnamed = options.ReuseUnnamed;
        _reuseFrom = options.ReuseFrom;
        _store = store;
        _chunkCache = chunkCache;
        _log = log;
    }

    /// <summary>
    /// Plans transfer <paramref name="transferId"/> from <paramref name="peer"/>: marks the files in place
    /// on <paramref name="placer"/>, writes every chunk found here through it (completing the files they
    /// complete), journals them, and returns each chunk's state with the bytes reused.
    /// </summary>
    public ReceivePlanning Plan(long transferId, NodeId peer, string peerName, TreePlacer placer)
    {
        var chunks = _manifest.Chunks;
        var states = new ChunkStates(chunks.Length);
        int fileCount = _plan.FileEntries.Length;
        int inPlaceCount = 0;
        ReuseScope? scope = null;
        ReuseScope Scope() => scope ??= ReuseScope.For(_store, peer, _root);
        var sources = new Dictionary<Hash256, (string Path, long Offset)>();

        // A first transfer into a new tree finds nothing at its final paths and no temporary files:
        // one look per directory instead of three per file (0.3 s of a 20,000-file sync was spent here).
        // A file counts as there only through real directories: a symlinked parent (a link an earlier
        // transfer placed, or one on the node) would have the quick check, the reuse read and the mode
        // change act on a file outside the destination.
        var dirs = new Dictionary<string, bool>(StringComparer.Ordinal);
        var existing = new FileInfo?[fileCount];
        bool anyTemp = Directory.EnumerateFileSystemEntries(placer.PartialDir).Any();
        for (int f = 0; f < fileCount; f++)
        {
            var e = _plan.File(f);
            string final = FinalPath(e.Path);
            int slash = e.Path.LastIndexOf('/');
            if (!RealDirectory(slash < 0 ? string.Empty : e.Path[..slash], dirs))
            {
                continue;
            }

            var fi = new FileInfo(final);
            if (!fi.Exists || fi.LinkTarget is not null)
            {
                continue;
            }

            existing[f] = fi;

            long mtimeTicks = DateTime.UnixEpoch.Ticks + (e.MtimeUnixNs / 100);
            if (fi.Length == e.Size && fi.LastWriteTimeUtc.Ticks == mtimeTicks && e.Size > 0 && HoldsChunks(fi, e))
            {
                placer.MarkInPlace(f);
                _plan.FileRemaining[f] = 0;
                inPlaceCount++;
                long off = 0;
                foreach (var c in e.Chunks)
                {
                    sources.TryAdd(chunks[c].Hash, (fi.FullName, off));
                    off += chunks[c].Length;
                }
            }
        }

        long reused = 0;
        var journal = _store.DoneChunks(transferId);
        EnsureRoomFor(journal, placer, peerName);
        var newlyDone = new List<int>();
        byte[] scratch = [];
        for (int c = 0; c < chunks.Length; c++)
        {
            bool anyOpen = false;
            int probeSlot = -1;
            for (int s = _plan.LocationStart[c]; s < _plan.LocationStart[c + 1]; s++)
            {
                if (!placer.IsInPlace(_plan.LocationFile[s]))
                {
                    anyOpen = true;
                    if (probeSlot < 0 && anyTemp && File.Exists(placer.TempPath(_plan.LocationFile[s])))
                    {
                        probeSlot = s;
                    }
                }
            }

            if (!anyOpen)
            {
                states.Set(c, ChunkState.NotNeeded);
                continue;
            }

            if (journal.Contains(c) && probeSlot >= 0)
            {
                if (scratch.Length < chunks[c].Length)
                {
                    scratch = new byte[Math.Max(chunks[c].Length, 1 << 20)];
                }

                var span = scratch.AsSpan(0, chunks[c].Length);
                if (ReadExact(placer.TempPath(_plan.LocationFile[probeSlot]), _plan.LocationOffset[probeSlot], span) && Hash256.Of(span) == chunks[c].Hash)
                {
                    Place(c, writeData: null);
                    reused += chunks[c].Length;
                }
            }
        }

        // Older versions of the same files, and files under the destination tree that the new
        // manifest no longer names (renamed or moved): index their chunks, copy the ones still needed.
        // Only worth reading them while something is still needed.
        if (states.Any(ChunkState.Needed))
        {
            var candidates = new List<FileInfo>();
            for (int f = 0; f < fileCount; f++)
            {
                // Looked at again: a file completed from the journal above has been replaced since.
                if (!placer.IsInPlace(f) && existing[f] is { } fi)
                {
                    fi.Refresh();
                    if (fi.Exists && fi.LinkTarget is null && fi.Length > 0)
                    {
                        candidates.Add(fi);
                    }
                }
            }

            if (_reuseUnnamed)
            {
                candidates.AddRange(UnnamedFilesUnderRoot());
            }

            foreach (var path in _reuseFrom)
            {
                var fi = new FileInfo(path);
                if (fi.Exists && fi.LinkTarget is null && fi.Length > 0 && Scope().Allows(path))
                {
                    candidates.Add(fi);
                }
            }

            var cdc = new FastCdc();
            foreach (var fi in candidates)
            {
                long off = 0;
                foreach (var ci in _chunkCache.ChunkFile(fi.FullName, fi.Length, cdc))
                {
                    sources.TryAdd(ci.Hash, (fi.FullName, off));
                    off += ci.Length;
                }
            }
        }

        if (sources.Count > 0)
        {
            for (int c = 0; c < chunks.Length; c++)
            {
                if (states[c] != ChunkState.Needed || !sources.TryGetValue(chunks[c].Hash, out var src))
                {
                    continue;
                }

                var buf = new byte[chunks[c].Length];
                if (ReadExact(src.Path, src.Offset, buf) && Hash256.Of(buf) == chunks[c].Hash)
                {
                    Place(c, buf);
                    newlyDone.Add(c);
                    reused += buf.Length;
                }
            }
        }

        reused += ReuseFromNodeIndex(states, newlyDone, Scope, Place);

        _store.MarkChunksDone(transferId, newlyDone);
        for (int f = 0; f < fileCount; f++)
        {
            if (!placer.IsInPlace(f) && _plan.FileRemaining[f] == 0 && _plan.File(f).Size > 0)
            {
                placer.Complete(f);
            }
        }

        return new ReceivePlanning(states, inPlaceCount, reused);

        void Place(int c, byte[]? writeData)
        {
            placer.Write(c, writeData);
            states.Set(c, ChunkState.Done);
        }
    }

    private string FinalPath(string rel) => Path.Combine(_root, rel);

    /// <summary>
    /// Whether <paramref name="rel"/> (relative to the root, "" for the root) is a directory reached
    /// through real directories only, each looked up once (a missing or linked parent answers for its children).
    /// </summary>
    private bool RealDirectory(string rel, Dictionary<string, bool> known)
    {
        if (known.TryGetValue(rel, out bool real))
        {
            return real;
        }

        if (rel.Length == 0)
        {
            real = Directory.Exists(_root);
        }
        else
        {
            int slash = rel.LastIndexOf('/');
            var di = new DirectoryInfo(FinalPath(rel));
            real = RealDirectory(slash < 0 ? string.Empty : rel[..slash], known) && di.Exists && di.LinkTarget is null;
        }

        known[rel] = real;
        return real;
    }

    /// <summary>
    /// Refuses a transfer whose files would not fit: every place a chunk is still to be written (in a
    /// file not in place, not journaled by an earlier attempt) counts, and a reserve stays free. A
    /// manifest costs little to send but may name one chunk millions of times; this bounds what it can
    /// make this node write, before anything is.
    /// </summary>
    private void EnsureRoomFor(HashSet<int> journaled, TreePlacer placer, string peerName)
    {
        long need = 0;
        var chunks = _manifest.Chunks;
        for (int c = 0; c < chunks.Length; c++)
        {
            if (journaled.Contains(c))
            {
                continue;
            }

            for (int s = _plan.LocationStart[c]; s < _plan.LocationStart[c + 1]; s++)
            {
                if (!placer.IsInPlace(_plan.LocationFile[s]))
                {
                    need = chunks[c].Length > long.MaxValue - need ? long.MaxValue : need + chunks[c].Length;
                }
            }
        }

        long free, reserve;
        try
        {
            var drive = new DriveInfo(placer.PartialDir);
            free = drive.AvailableFreeSpace;
            reserve = Math.Min(DiskReserve, drive.TotalSize / 20);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return; // Unknown: the writes themselves report a full disk.
        }

        if (need > free - reserve)
        {
            Log.RefusedTooLarge(_log, _manifest.RootName, peerName, need, free);
            throw new HaulException(ErrorCode.DiskFull, $"the transfer needs {need} bytes on the receiver, which has {free} free (keeping {reserve} in reserve)", "free space on the receiving node or send less");
        }
    }

    /// <summary>
    /// Whether a file that passes the quick check (size and mtime) holds the manifest's chunks: from the
    /// chunk list remembered for it when its stat (inode and ctime too, which no sender sets) is unchanged
    /// since it was placed or read, else by reading it. A receipt says the manifest's bytes are here: a
    /// file rewritten with its old size and mtime was counted as delivered and a receipt signed for
    /// content the node never had.
    /// </summary>
    private bool HoldsChunks(FileInfo fi, ManifestEntry e)
    {
        List<ChunkInfo> have;
        try
        {
            have = _chunkCache.ChunkFile(fi.FullName, fi.Length, DefaultCdc);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        if (have.Count != e.Chunks.Length)
        {
            return false;
        }

        for (int i = 0; i < have.Count; i++)
        {
            if (have[i].Hash != _manifest.Chunks[e.Chunks[i]].Hash)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Chunks still needed that the node's chunk index places in some other file on this node that the
    /// sending peer may read (this destination, a folder shared with it; see <see cref="ReuseScope"/>):
    /// read, re-hashed, and used only if they match.
    /// </summary>
    private long ReuseFromNodeIndex(ChunkStates states, List<int> newlyDone, Func<ReuseScope> scope, Action<int, byte[]?> place)
    {
        if (_chunkCache is null || !states.Any(ChunkState.Needed))
        {
            return 0;
        }

        var chunks = _manifest.Chunks;
        var wanted = new HashSet<Hash256>();
        for (int c = 0; c < chunks.Length; c++)
        {
            if (states[c] == ChunkState.Needed)
            {
                wanted.Add(chunks[c].Hash);
            }
        }

        var places = _chunkCache.Locate(wanted, scope().Allows);
        if (places.Count == 0)
        {
            return 0;
        }

        long reused = 0;
        byte[] buf = [];
        for (int c = 0; c < chunks.Length; c++)
        {
            if (states[c] != ChunkState.Needed || !places.TryGetValue(chunks[c].Hash, out var at))
            {
                continue;
            }

            foreach (var (path, offset) in at)
            {
                if (buf.Length < chunks[c].Length)
                {
                    buf = new byte[Math.Max(chunks[c].Length, 1 << 20)];
                }

                if (ReadExact(path, offset, buf.AsSpan(0, chunks[c].Length)) && Hash256.Of(buf.AsSpan(0, chunks[c].Length)) == chunks[c].Hash)
                {
                    place(c, buf);
                    newlyDone.Add(c);
                    reused += chunks[c].Length;
                    break;
                }
            }
        }

        return reused;
    }

    /// <summary>Regular files under the sent tree's destination that the manifest does not name.</summary>
    private List<FileInfo> UnnamedFilesUnderRoot()
    {
        var result = new List<FileInfo>();
        var top = new DirectoryInfo(FinalPath(_manifest.RootName));
        if (!top.Exists || top.LinkTarget is not null)
        {
            return result;
        }

        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in _manifest.Entries)
        {
            named.Add(FinalPath(e.Path));
        }

        var stack = new Stack<DirectoryInfo>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            foreach (var child in stack.Pop().EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 }))
            {
                if (child.LinkTarget is not null)
                {
                    continue;
                }

                if (child is DirectoryInfo d)
                {
                    stack.Push(d);
                }
                else if (child is FileInfo fi && fi.Length > 0 && !named.Contains(fi.FullName))
                {
                    result.Add(fi);
                }
            }
        }

        return result;
    }

    private static bool ReadExact(string path, long offset, Span<byte> into)
    {
        try
        {
            using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            int got = 0;
            while (got < into.Length)
            {
                int n = RandomAccess.Read(h, into[got..], offset + got);
                if (n == 0)
                {
                    return false;
                }

                got += n;
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
