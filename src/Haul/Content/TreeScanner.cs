namespace Haul.Content;

/// <summary>
/// Walks a file or folder and builds its manifest: entries in ordinal path order (parents before
/// children), symlinks recorded rather than followed, files chunked in parallel.
/// </summary>
internal static class TreeScanner
{
    /// <param name="followLinks">-L/--copy-links: a symlink inside the tree is sent as what it points at (a file's
    /// content as a regular file, a folder walked) instead of as a link; a broken one, one to a device, FIFO
    /// or socket, or one leading back into a folder being walked is skipped and told to <paramref name="onSkippedLink"/>.</param>
    public static ScannedTree Scan(string sourcePath, FastCdc? cdc = null, Action<long, int>? progress = null, CancellationToken cancellationToken = default, IChunkCache? cache = null, bool followLinks = false, Action<string, string>? onSkippedLink = null)
    {
        cdc ??= new FastCdc();
        string full = Path.GetFullPath(sourcePath).TrimEnd('/');
        if (full.Length == 0)
        {
            full = "/";
        }

        var entries = new List<(string Rel, FileSystemInfo Info, EntryKind Kind)>();
        int skipped = 0;
        try
        {
            // The path named on the command line is followed when it is a symlink (as scp and rsync's
            // sources are): the target's content goes under the link's name. A FileInfo of the link
            // itself reports the length of the target's path, and a send of it delivered that many
            // bytes of the target under a receipt.
            if (File.Exists(full))
            {
                var fi = new FileInfo(full);
                if (fi.LinkTarget is not null)
                {
                    fi = fi.ResolveLinkTarget(returnFinalTarget: true) as FileInfo is { Exists: true } target ? target
                        : throw new HaulException(ErrorCode.PathNotFound, $"{sourcePath} is a symlink to nothing", "send what it should point at");
                }

                entries.Add((Path.GetFileName(full), fi, EntryKind.File));
            }
            else if (Directory.Exists(full))
            {
                string rootName = Path.GetFileName(full);
                if (rootName.Length == 0)
                {
                    throw new HaulException(ErrorCode.Usage, "cannot send the file-system root", "name a folder inside it");
                }

                var di = new DirectoryInfo(full);
                if (di.LinkTarget is not null && di.ResolveLinkTarget(returnFinalTarget: true) is DirectoryInfo { Exists: true } target)
                {
                    di = target;
                }

                entries.Add((rootName, di, EntryKind.Directory));
                var walk = new Walker(entries, followLinks, onSkippedLink, cancellationToken);
                walk.Walk(di, rootName);
                skipped = walk.Skipped;
            }
            else
            {
                throw new HaulException(ErrorCode.PathNotFound, $"path not found: {sourcePath}", "check the path and try again");
            }
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"permission denied reading {sourcePath}: {ex.Message}", "fix the permissions or send as a user who can read it", ex);
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Rel, b.Rel));
        return Build(entries, full, skipped, cdc, progress, cache, cancellationToken);
    }

    /// <summary>
    /// A manifest of just these files under <paramref name="root"/>, named by their relative paths (what
    /// a sync sends: the new and changed files, not the tree). A file that vanished or is no longer a
    /// regular file is an error: the caller listed it a moment ago.
    /// </summary>
    /// <param name="followLinks">The caller listed with -L/--copy-links: a file that is a symlink is read through it
    /// (only ever for the user's own tree; a folder a peer opens never passes it).</param>
    public static ScannedTree ScanFiles(string root, IEnumerable<string> relativePaths, FastCdc? cdc = null, CancellationToken cancellationToken = default, IChunkCache? cache = null, bool followLinks = false)
    {
        var entries = new List<(string Rel, FileSystemInfo Info, EntryKind Kind)>();
        foreach (var rel in relativePaths)
        {
            var fi = new FileInfo(Path.Combine(root, rel));
            if (followLinks && fi.LinkTarget is not null)
            {
                fi = fi.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? fi;
            }

            if (!fi.Exists || fi.LinkTarget is not null || !IsRegular(fi))
            {
                throw new HaulException(ErrorCode.PathNotFound, $"{rel} is gone or no longer a regular file", "run the sync again");
            }

            entries.Add((rel, fi, EntryKind.File));
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Rel, b.Rel));
        return Build(entries, root, 0, cdc ?? new FastCdc(), null, cache, cancellationToken);
    }

    private static ScannedTree Build(List<(string Rel, FileSystemInfo Info, EntryKind Kind)> entries, string full, int skipped, FastCdc cdc, Action<long, int>? progress, IChunkCache? cache, CancellationToken cancellationToken)
    {

        var chunkLists = new List<ChunkInfo>?[entries.Count];
        long done = 0;
        int filesDone = 0;
        try
        {
            Parallel.For(0, entries.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                var (_, info, kind) = entries[i];
                if (kind != EntryKind.File)
                {
                    return;
                }

                var fi = (FileInfo)info;
                chunkLists[i] = cache.ChunkFile(fi.FullName, fi.Length, cdc);
                long d = Interlocked.Add(ref done, fi.Length);
                int f = Interlocked.Increment(ref filesDone);
                progress?.Invoke(d, f);
            });
        }
        catch (AggregateException ae) when (ae.InnerException is HaulException or UnauthorizedAccessException or IOException)
        {
            throw ae.InnerException switch
            {
                HaulException h => h,
                UnauthorizedAccessException u => new HaulException(ErrorCode.PermissionDenied, $"permission denied: {u.Message}", "fix the permissions or send as a user who can read it", u),
                var io => new HaulException(ErrorCode.PathNotFound, $"cannot read source: {io!.Message}", "check that the files still exist", io),
            };
        }
        catch (UnauthorizedAccessException u)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"permission denied: {u.Message}", "fix the permissions or send as a user who can read it", u);
        }

        var index = new Dictionary<Hash256, int>();
        var table = new List<ChunkInfo>();
        var locations = new List<ChunkLocation>();
        var result = new List<ManifestEntry>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var (rel, info, kind) = entries[i];
            var mode = kind == EntryKind.Symlink ? (UnixFileMode)0x1FF : SafeMode(info);
            long mtime = (info.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks) * 100;
            switch (kind)
            {
                case EntryKind.File:
                    var list = chunkLists[i]!;
                    var refs = new int[list.Count];
                    long off = 0;
                    for (int k = 0; k < list.Count; k++)
                    {
                        if (!index.TryGetValue(list[k].Hash, out int ci))
                        {
                            ci = table.Count;
                            index.Add(list[k].Hash, ci);
                            table.Add(list[k]);
                            locations.Add(new ChunkLocation(info.FullName, off));
                        }

                        refs[k] = ci;
                        off += list[k].Length;
                    }

                    result.Add(new ManifestEntry(rel, kind, mode, mtime, off, refs, null));
                    break;
                case EntryKind.Directory:
                    result.Add(new ManifestEntry(rel, kind, mode, mtime, 0, [], null));
                    break;
                default:
                    result.Add(new ManifestEntry(rel, kind, mode, mtime, 0, [], info.LinkTarget));
                    break;
            }
        }

        var manifest = ManifestCodec.Create(result, [.. table]);
        return new ScannedTree(manifest, [.. locations], full, skipped);
    }

    private static UnixFileMode SafeMode(FileSystemInfo info)
    {
        try
        {
            return info.UnixFileMode & (UnixFileMode)0xFFF;
        }
        catch (IOException)
        {
            return (UnixFileMode)0x1A4;
        }
    }

    /// <summary>The depth-first walk of a folder; with -L, the folders on the current path are the ones a link may not lead back into.</summary>
    private sealed class Walker(List<(string, FileSystemInfo, EntryKind)> into, bool followLinks, Action<string, string>? onSkippedLink, CancellationToken ct)
    {
        private readonly List<(long Dev, long Ino)> _path = [];

        public int Skipped { get; private set; }

        public void Walk(DirectoryInfo dir, string rel)
        {
            ct.ThrowIfCancellationRequested();
            _path.Add(Native.DirectoryId(dir.FullName));
            foreach (var child in dir.EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0, RecurseSubdirectories = false }))
            {
                string childRel = rel + "/" + child.Name;
                if (child.LinkTarget is not null)
                {
                    if (!followLinks)
                    {
                        into.Add((childRel, child, EntryKind.Symlink));
                    }
                    else
                    {
                        Follow(child, childRel);
                    }
                }
                else if (child is DirectoryInfo d)
                {
                    into.Add((childRel, d, EntryKind.Directory));
                    Walk(d, childRel);
                }
                else if (child is FileInfo f && IsRegular(f))
                {
                    into.Add((childRel, f, EntryKind.File));
                }
                else
                {
                    Skipped++;
                }
            }

            _path.RemoveAt(_path.Count - 1);
        }

        private void Follow(FileSystemInfo link, string rel)
        {
            FileSystemInfo? target;
            try
            {
                target = link.ResolveLinkTarget(returnFinalTarget: true);
            }
            catch (IOException)
            {
                target = null; // too many levels of links
            }

            if (target is null || !(File.Exists(target.FullName) || Directory.Exists(target.FullName)))
            {
                Skip(rel, "symlink to nothing; skipped");
            }
            else if (Directory.Exists(target.FullName))
            {
                if (_path.Contains(Native.DirectoryId(target.FullName)))
                {
                    Skip(rel, "symlink loop (it leads back into a folder above it); skipped");
                    return;
                }

                var d = new DirectoryInfo(target.FullName);
                into.Add((rel, d, EntryKind.Directory));
                Walk(d, rel);
            }
            else if (Native.IsSpecialFile(target.FullName))
            {
                Skip(rel, "symlink to a device, FIFO or socket; skipped");
            }
            else
            {
                into.Add((rel, new FileInfo(target.FullName), EntryKind.File));
            }
        }

        private void Skip(string rel, string why)
        {
            Skipped++;
            onSkippedLink?.Invoke(rel, why);
        }
    }

    // FIFOs, sockets and devices show up as zero-length files; only those need the lstat check.
    private static bool IsRegular(FileInfo f) => f.Length != 0 || !Native.IsSpecialFile(f.FullName);
}
