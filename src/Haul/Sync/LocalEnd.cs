using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// A folder on this machine. Listing is a depth-first walk whose siblings are ordered by name, with a
/// directory's name compared as "name/": that yields exactly the ordinal order of full paths, the order
/// S3 lists keys in, so any two ends merge in one pass without holding a listing. Symlinks and special
/// files are skipped and counted (rclone does the same without -L). Hashes come from the tree index
/// when size, mtime, inode and ctime are unchanged, so an unchanged file is never re-read.
/// </summary>
internal sealed class LocalEnd : IFolderEnd
{
    private const string TempPrefix = ".haul-tmp-";

    /// <summary>
    /// The temporary name beside <paramref name="name"/>: the prefix and the name, or, where that would
    /// pass the 255-byte limit of a name, the prefix and a hash of it (a 250-byte name failed to copy).
    /// </summary>
    internal static string TempName(string name) =>
        System.Text.Encoding.UTF8.GetByteCount(name) + TempPrefix.Length <= 255
            ? TempPrefix + name
            : TempPrefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..32];
    private readonly string _root;
    private readonly ITreeIndex? _index;

    /// <summary>
    /// One file of the folder instead of its tree (a single file named as a source, or the file it is
    /// checked against): listings hold that file alone, listed as <see cref="ListedAs"/> when set.
    /// A folder a peer opens never sets it.
    /// </summary>
    public string? OnlyName { get; init; }

    /// <summary>The name <see cref="OnlyName"/> is listed under (check of two files with different names).</summary>
    public string? ListedAs { get; init; }

    public LocalEnd(string root, ITreeIndex? index, string? display = null)
    {
        _root = Path.GetFullPath(root).TrimEnd('/');
        if (_root.Length == 0)
        {
            throw new HaulException(ErrorCode.Usage, "cannot sync the file-system root", "name a folder inside it");
        }

        _index = index;
        Display = display ?? root;
    }

    public string Display { get; }

    public string Root => _root;

    public int SkippedSpecial { get; private set; }

    /// <summary>Symlinks left out of listings (without <see cref="FollowLinks"/>, or broken, looping or pointing at a special file).</summary>
    public int SkippedLinks { get; private set; }

    /// <summary>
    /// -L/--copy-links: a symlink in the tree is listed as what it points at (a file's content as a regular
    /// file, a folder walked), as rclone does. Only for the user's own local trees: an end a peer opens
    /// (FolderSession) never sets it.
    /// </summary>
    public bool FollowLinks { get; init; }

    /// <summary>Told each link the listing leaves out, with why (rclone's "Can't follow symlink without -L/--copy-links").</summary>
    public Action<string, string>? OnSkippedLink { get; set; }

    /// <summary>When set, listings record every folder they walk and every folder holding a name they leave out (for sync's removal of extra folders).</summary>
    public bool RecordDirectories { get; set; }

    /// <summary>The folders the last listing walked (relative; <see cref="RecordDirectories"/>).</summary>
    public HashSet<string> ListedDirectories { get; } = new(StringComparer.Ordinal);

    /// <summary>Folders holding something the listing left out (excluded, a link, a special or temporary file), with their parents: never empty.</summary>
    public HashSet<string> DirectoriesWithUnlisted { get; } = new(StringComparer.Ordinal);

    public bool NeedsHashBeforeWrite => false;

    public Task<bool> ExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Directory.Exists(_root));

    public async IAsyncEnumerable<SyncEntry> ListAsync(SyncFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (OnlyName is not null)
        {
            if (ListOne(filter) is { } one)
            {
                yield return one;
            }

            yield break;
        }

        if (File.Exists(_root))
        {
            throw new HaulException(ErrorCode.Usage, $"{Display} is a file, where a folder is expected", "name a folder (copy and sync make a missing one); one file goes as the source: haul copy FILE FOLDER/");
        }

        if (!Directory.Exists(_root))
        {
            yield break;
        }

        ListedDirectories.Clear();
        DirectoriesWithUnlisted.Clear();

        // Explicit stack of directories; each frame holds its sorted children, the next index and the
        // folder's identity (the folders on the stack are the ones a followed link may not lead back into).
        var stack = new Stack<(string Rel, List<Child> Children, int Next, (long Dev, long Ino) Id)>();
        var rootId = Native.DirectoryId(_root);
        stack.Push((string.Empty, ReadDir(_root, string.Empty, stack), 0, rootId));
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (rel, children, next, id) = stack.Pop();
            if (next >= children.Count)
            {
                continue;
            }

            stack.Push((rel, children, next + 1, id));
            var c = children[next];
            string path = rel.Length == 0 ? c.Name : rel + "/" + c.Name;
            if (c.IsDirectory)
            {
                if (!filter.ExcludesDirectory(path))
                {
                    if (RecordDirectories)
                    {
                        ListedDirectories.Add(path);
                    }

                    var childId = c.Id ?? Native.DirectoryId(Path.Combine(_root, path));
                    stack.Push((path, ReadDir(Path.Combine(_root, path), path, stack), 0, childId));
                }
                else
                {
                    Unlisted(rel);
                }

                continue;
            }

            var e = new SyncEntry(path, c.Size, c.MtimeTicks);
            if (filter.Includes(e))
            {
                yield return e;
            }
            else
            {
                Unlisted(rel);
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>The listing of <see cref="OnlyName"/>: a regular file (through a link only with <see cref="FollowLinks"/>); a folder in its place is an error, not a file to write over.</summary>
    private SyncEntry? ListOne(SyncFilter filter)
    {
        string full = _root + "/" + OnlyName;
        var fi = new FileInfo(full);
        if (fi.LinkTarget is not null)
        {
            if (!FollowLinks)
            {
                return null;
            }

            fi = fi.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? fi;
        }

        if (Directory.Exists(fi.FullName) && fi.LinkTarget is null)
        {
            throw new HaulException(ErrorCode.Usage, $"{Display}/{OnlyName} is a folder, where the file {OnlyName} would go", "move it aside, or name another destination folder");
        }

        if (!fi.Exists || (fi.Length == 0 && Native.IsSpecialFile(fi.FullName)))
        {
            return null;
        }

        var e = new SyncEntry(ListedAs ?? OnlyName!, fi.Length, fi.LastWriteTimeUtc.Ticks);
        return filter.Includes(e) ? e : null;
    }

    public Task<SyncEntry> ResolveAsync(SyncEntry entry, CancellationToken cancellationToken = default) => Task.FromResult(entry);

    public async Task<Hash256> HashAsync(SyncEntry entry, bool reread, CancellationToken cancellationToken = default)
    {
        string full = FullPath(entry.Path);
        var st = FollowLinks ? Native.StatFollowing(full) : Native.Stat(full);
        if (!reread && _index?.Lookup(_root, entry.Path, st) is { } known)
        {
            return known;
        }

        Hash256 h;
        using (var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan))
        {
            h = Hash256.Read(await SHA256.HashDataAsync(fs, cancellationToken).ConfigureAwait(false));
        }

        _index?.Store(_root, entry.Path, st, h);
        return h;
    }

    public Task<Stream> OpenReadAsync(SyncEntry entry, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(new FileStream(FullPath(entry.Path), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));

    public async Task WriteAsync(SyncEntry entry, Stream content, Hash256? sha256, CancellationToken cancellationToken = default)
    {
        string final = FullPath(entry.Path);
        string dir = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(_root);
        Parents(_root, entry.Path, create: true);
        string tmp = Path.Combine(dir, TempName(Path.GetFileName(final)));
        try
        {
            // CreateNew (O_EXCL) never opens through a link left at the temporary name.
            TryDelete(tmp);
            var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (fs.ConfigureAwait(false))
            {
                if (entry.Size > 0)
                {
                    fs.SetLength(entry.Size);
                }

                await content.CopyToAsync(fs, 1 << 20, cancellationToken).ConfigureAwait(false);
                if (fs.Length != entry.Size)
                {
                    throw new HaulException(ErrorCode.CorruptData, $"{Display}/{entry.Path}: got {fs.Length} bytes, expected {entry.Size}", "the source changed during the sync; run it again");
                }
            }

            File.SetLastWriteTimeUtc(tmp, new DateTime(entry.MtimeTicks, DateTimeKind.Utc));
            File.Move(tmp, final, overwrite: true);
            if ((sha256 ?? (content as HashingStream)?.Hash()) is { } h)
            {
                _index?.Store(_root, entry.Path, Native.Stat(final), h);
            }
        }
        catch (IOException io) when (IoErrors.IsDiskFull(io))
        {
            TryDelete(tmp);
            throw new HaulException(ErrorCode.DiskFull, $"no space left writing {Display}/{entry.Path}", "free space on the destination and run again; nothing was deleted", io);
        }
        catch (IOException io) when (IoErrors.IsReadOnlyFileSystem(io))
        {
            TryDelete(tmp);
            throw new HaulException(ErrorCode.PermissionDenied, $"{Display} is on a read-only file system", "remount it read-write or choose another destination; nothing was deleted", io);
        }
        catch (UnauthorizedAccessException ua)
        {
            TryDelete(tmp);
            throw new HaulException(ErrorCode.PermissionDenied, $"permission denied writing {Display}/{entry.Path}", "fix the destination's permissions", ua);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    public Task SetMtimeAsync(SyncEntry entry, long mtimeTicks, CancellationToken cancellationToken = default)
    {
        string full = FullPath(entry.Path);
        Parents(_root, entry.Path, create: false);
        var before = _index is null ? null : _index.Lookup(_root, entry.Path, Native.Stat(full));
        File.SetLastWriteTimeUtc(full, new DateTime(mtimeTicks, DateTimeKind.Utc));
        if (before is { } h)
        {
            _index!.Store(_root, entry.Path, Native.Stat(full), h);
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(SyncEntry entry, CancellationToken cancellationToken = default)
    {
        string full = FullPath(entry.Path);
        if (Parents(_root, entry.Path, create: false))
        {
            File.Delete(full);
        }

        _index?.Forget(_root, entry.Path);
        return Task.CompletedTask;
    }

    public Task<long> RemoveEmptyDirectoriesAsync(IReadOnlyList<string> deepestFirst, CancellationToken cancellationToken = default)
    {
        long removed = 0;
        foreach (var rel in deepestFirst)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (RemoveEmptyDirectory(rel))
            {
                removed++;
            }
        }

        return Task.FromResult(removed);
    }

    /// <summary>rmdir of a real folder under the root (no link on the way or at the end); false when it is not there or not empty.</summary>
    private bool RemoveEmptyDirectory(string rel)
    {
        string full = FullPath(rel);
        if (!Parents(_root, rel, create: false))
        {
            return false;
        }

        var attrs = new FileInfo(full).Attributes;
        if ((int)attrs == -1 || (attrs & FileAttributes.ReparsePoint) != 0 || (attrs & FileAttributes.Directory) == 0)
        {
            return false;
        }

        try
        {
            // Not recursive: rmdir(2), which fails on a folder with anything in it.
            Directory.Delete(full, recursive: false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public Task BackupAsync(SyncEntry entry, string backupRoot, CancellationToken cancellationToken = default)
    {
        string src = FullPath(entry.Path);
        if (!Parents(_root, entry.Path, create: false) || !File.Exists(src))
        {
            return Task.CompletedTask;
        }

        string backup = Path.GetFullPath(backupRoot).TrimEnd('/');
        string dst = backup + "/" + entry.Path;
        Directory.CreateDirectory(backup);
        Parents(backup, entry.Path, create: true);
        File.Move(src, dst, overwrite: true);
        _index?.Forget(_root, entry.Path);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The path under the root, for a name that passed the manifest rule (no "..", no absolute path, no NUL).</summary>
    private string FullPath(string rel)
    {
        if (ListedAs is not null && rel == ListedAs)
        {
            rel = OnlyName!;
        }

        if (!PathSafety.IsSafeRelative(rel, out var why))
        {
            throw new HaulException(ErrorCode.UnsafePath, $"refused '{ListingGuard.Printable(rel)}' in {Display}: {why}", "only plain relative names are written, read or deleted");
        }

        return _root + "/" + rel;
    }

    /// <summary>
    /// Walks the folders above <paramref name="rel"/> under <paramref name="root"/> without following
    /// links: a symlink there (which could lead anywhere: a name passing the lexical rule is contained
    /// only if no parent resolves elsewhere) or a file is refused; a missing folder is created when
    /// <paramref name="create"/> is set. False when one is missing and not created (nothing below it).
    /// </summary>
    private bool Parents(string root, string rel, bool create)
    {
        for (int slash = rel.IndexOf('/'); slash >= 0; slash = rel.IndexOf('/', slash + 1))
        {
            string dir = root + "/" + rel[..slash];
            var attrs = new FileInfo(dir).Attributes;
            if ((int)attrs == -1)
            {
                if (!create)
                {
                    return false;
                }

                Directory.CreateDirectory(dir);
                continue;
            }

            if ((attrs & FileAttributes.ReparsePoint) != 0 || (attrs & FileAttributes.Directory) == 0)
            {
                throw new HaulException(ErrorCode.UnsafePath, $"refused '{ListingGuard.Printable(rel)}' in {Display}: '{rel[..slash]}' is {((attrs & FileAttributes.ReparsePoint) != 0 ? "a symlink" : "not a folder")}", "remove or rename it in the destination; Haul does not write through links");
            }
        }

        return true;
    }

    /// <summary>Marks <paramref name="rel"/> and its parents as holding a name the listing left out.</summary>
    private void Unlisted(string rel)
    {
        if (!RecordDirectories)
        {
            return;
        }

        for (string d = rel; d.Length > 0 && DirectoriesWithUnlisted.Add(d);)
        {
            int slash = d.LastIndexOf('/');
            d = slash < 0 ? string.Empty : d[..slash];
        }
    }

    private void SkipLink(string rel, string name, string why)
    {
        SkippedLinks++;
        Unlisted(rel);
        OnSkippedLink?.Invoke(rel.Length == 0 ? name : rel + "/" + name, why);
    }

    /// <summary>
    /// What a symlink in the tree is listed as under -L: its target's size and time as a file, a folder to
    /// walk, or null (skipped with a notice) when it is broken, points at a special file, or leads back
    /// into a folder being walked (a loop).
    /// </summary>
    private Child? Follow(string full, string rel, string name, Stack<(string Rel, List<Child> Children, int Next, (long Dev, long Ino) Id)> walking)
    {
        FileSystemInfo? target;
        try
        {
            target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException)
        {
            target = null; // too many levels of links
        }

        if (target is null || !(File.Exists(target.FullName) || Directory.Exists(target.FullName)))
        {
            SkipLink(rel, name, "symlink to nothing; skipped");
            return null;
        }

        if (Directory.Exists(target.FullName))
        {
            var id = Native.DirectoryId(target.FullName);
            foreach (var frame in walking)
            {
                if (frame.Id == id)
                {
                    SkipLink(rel, name, "symlink loop (it leads back into a folder above it); skipped");
                    return null;
                }
            }

            return new Child(name, name + "/", true, 0, 0, id);
        }

        if (Native.IsSpecialFile(target.FullName))
        {
            SkipLink(rel, name, "symlink to a device, FIFO or socket; skipped");
            return null;
        }

        var fi = new FileInfo(target.FullName);
        return new Child(name, name, false, fi.Length, fi.LastWriteTimeUtc.Ticks);
    }

    private List<Child> ReadDir(string dir, string rel, Stack<(string Rel, List<Child> Children, int Next, (long Dev, long Ino) Id)> walking)
    {
        var list = new List<Child>();
        var links = new List<string>();
        int special = 0;
        bool hidden = false;
        try
        {
            var e = new FileSystemEnumerable<Child?>(
                dir,
                (ref FileSystemEntry f) =>
                {
                    string name = f.FileName.ToString();
                    if ((f.Attributes & FileAttributes.ReparsePoint) != 0)
                    {
                        links.Add(name);
                        return null;
                    }

                    if (f.IsDirectory)
                    {
                        // A receive in progress keeps its pieces here (a peer pushing into this folder).
                        if (name == Transfer.ReceiveGuard.PartialFolder)
                        {
                            hidden = true;
                            return null;
                        }

                        return new Child(name, name + "/", true, 0, 0);
                    }

                    if (name.StartsWith(TempPrefix, StringComparison.Ordinal))
                    {
                        hidden = true;
                        return null;
                    }

                    // FIFOs, sockets and devices report length 0; only then is the extra statx worth it.
                    if (f.Length == 0 && Native.IsSpecialFile(f.ToFullPath()))
                    {
                        special++;
                        return null;
                    }

                    return new Child(name, name, false, f.Length, f.LastWriteTimeUtc.UtcTicks);
                },
                new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false });
            foreach (var c in e)
            {
                if (c is not null)
                {
                    list.Add(c.Value);
                }
            }
        }
        catch (UnauthorizedAccessException ua)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"permission denied listing {dir}", "fix the permissions or run as a user who can read it", ua);
        }

        // Partial folders and temporary files are not counted as skipped, but their folder is not empty.
        if (special != 0 || hidden)
        {
            Unlisted(rel);
        }

        SkippedSpecial += special;
        links.Sort(StringComparer.Ordinal);
        foreach (var name in links)
        {
            if (!FollowLinks)
            {
                SkipLink(rel, name, "can't follow symlink without -L/--copy-links");
            }
            else if (Follow(Path.Combine(dir, name), rel, name, walking) is { } c)
            {
                list.Add(c);
            }
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        return list;
    }

    /// <summary>SortKey is the name, with '/' appended for a directory (see the class comment); Id is set for a followed link to a folder.</summary>
    private readonly record struct Child(string Name, string SortKey, bool IsDirectory, long Size, long MtimeTicks, (long Dev, long Ino)? Id = null);
}
