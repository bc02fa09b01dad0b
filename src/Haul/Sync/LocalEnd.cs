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
internal sealed class LocalEnd : ISyncEnd
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

    public LocalEnd(string root, ITreeIndex? index)
    {
        _root = Path.GetFullPath(root).TrimEnd('/');
        if (_root.Length == 0)
        {
            throw new HaulException(ErrorCode.Usage, "cannot sync the file-system root", "name a folder inside it");
        }

        _index = index;
        Display = root;
    }

    public string Display { get; }

    public string Root => _root;

    public int SkippedSpecial { get; private set; }

    public bool NeedsHashBeforeWrite => false;

    public Task<bool> ExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Directory.Exists(_root));

    public async IAsyncEnumerable<SyncEntry> ListAsync(SyncFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (File.Exists(_root))
        {
            throw new HaulException(ErrorCode.Usage, $"{Display} is a file; sync works on folders", "name the folder that holds it, with --include for the file");
        }

        if (!Directory.Exists(_root))
        {
            yield break;
        }

        // Explicit stack of directories; each frame holds its sorted children and the next index.
        var stack = new Stack<(string Rel, List<Child> Children, int Next)>();
        stack.Push((string.Empty, ReadDir(_root), 0));
        while (stack.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (rel, children, next) = stack.Pop();
            if (next >= children.Count)
            {
                continue;
            }

            stack.Push((rel, children, next + 1));
            var c = children[next];
            string path = rel.Length == 0 ? c.Name : rel + "/" + c.Name;
            if (c.IsDirectory)
            {
                if (!filter.ExcludesDirectory(path))
                {
                    stack.Push((path, ReadDir(Path.Combine(_root, path)), 0));
                }

                continue;
            }

            var e = new SyncEntry(path, c.Size, c.MtimeTicks);
            if (filter.Includes(e))
            {
                yield return e;
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<SyncEntry> ResolveAsync(SyncEntry entry, CancellationToken cancellationToken = default) => Task.FromResult(entry);

    public async Task<Hash256> HashAsync(SyncEntry entry, bool reread, CancellationToken cancellationToken = default)
    {
        string full = FullPath(entry.Path);
        var st = Native.Stat(full);
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

    private List<Child> ReadDir(string dir)
    {
        var list = new List<Child>();
        int special = 0;
        try
        {
            var e = new FileSystemEnumerable<Child?>(
                dir,
                (ref FileSystemEntry f) =>
                {
                    if ((f.Attributes & FileAttributes.ReparsePoint) != 0)
                    {
                        special++;
                        return null;
                    }

                    string name = f.FileName.ToString();
                    if (f.IsDirectory)
                    {
                        // A receive in progress keeps its pieces here (a peer pushing into this folder).
                        if (name == Transfer.ReceiveGuard.PartialFolder)
                        {
                            return null;
                        }

                        return new Child(name, name + "/", true, 0, 0);
                    }

                    if (name.StartsWith(TempPrefix, StringComparison.Ordinal))
                    {
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

        SkippedSpecial += special;
        list.Sort(static (a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        return list;
    }

    /// <summary>SortKey is the name, with '/' appended for a directory (see the class comment).</summary>
    private readonly record struct Child(string Name, string SortKey, bool IsDirectory, long Size, long MtimeTicks);
}
