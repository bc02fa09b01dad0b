using Haul.Content;

namespace Haul.Protocol;

/// <summary>
/// Frames for working on a peer's shared folder (docs/protocol.md, "Folders"): open a folder with read
/// or write intent, stream its listing, remove or re-time files, ask for hashes, and pull files. A push
/// is an ordinary OFFER sent after a write-mode FOLDER_OPEN. Every path is checked as a manifest path is.
/// </summary>
internal static class FolderMessages
{
    /// <summary>Entries per LIST_PART frame: big enough to amortise the frame, small enough to stream.</summary>
    public const int ListBatch = 1024;

    /// <summary>Paths per REMOVE, SET_TIMES, HASH_REQUEST or PULL frame.</summary>
    public const int RequestBatch = 4096;

    internal sealed record Open(string Folder, string SubPath, bool Write)
    {
        public WireWriter Encode() => new WireWriter().String(Folder).String(SubPath).U8(Write ? (byte)1 : (byte)0);

        public static Open Decode(byte[] p)
        {
            var r = new SpanReader(p);
            var m = new Open(r.String(), r.String(), r.U8() != 0);
            r.End();
            if (m.SubPath.Length > 0)
            {
                CheckPath(m.SubPath);
            }

            return m;
        }
    }

    public static WireWriter EncodeList(IReadOnlyList<SyncEntry> entries)
    {
        var w = new WireWriter(16 + (entries.Count * 64));
        w.U32((uint)entries.Count);
        Span<byte> h = stackalloc byte[Hash256.Size];
        foreach (var e in entries)
        {
            w.String(e.Path).U64((ulong)e.Size).I64(e.MtimeTicks);
            if (e.Sha256 is { } sha)
            {
                sha.Write(h);
                w.U8(1).Bytes(h);
            }
            else
            {
                w.U8(0);
            }
        }

        return w;
    }

    public static List<SyncEntry> DecodeList(byte[] p)
    {
        var r = new SpanReader(p);
        int n = r.Count(19);
        var list = new List<SyncEntry>(n);
        for (int i = 0; i < n; i++)
        {
            string path = r.String();
            CheckPath(path);
            ulong size = r.U64();
            long mtime = r.I64();
            Hash256? sha = r.U8() != 0 ? Hash256.Read(r.Bytes(Hash256.Size)) : null;
            if (size > long.MaxValue)
            {
                ThrowHelper.Protocol($"'{path}' has an impossible size");
            }

            list.Add(new SyncEntry(path, (long)size, mtime) { Sha256 = sha });
        }

        r.End();
        return list;
    }

    public enum RemoveOp : byte
    {
        Delete = 0,
        MoveToBackup = 1,
        CopyToBackup = 2,

        /// <summary>Paths come in pairs (from, to), both inside the opened target: bisync's conflict copies.</summary>
        Rename = 3,

        /// <summary>Folders (deepest first) removed if empty, links and files left: a sync's extra folders. DONE counts those removed.</summary>
        RemoveEmptyFolders = 4,
    }

    public static WireWriter EncodeRemove(RemoveOp op, string backupSubPath, IReadOnlyList<string> paths)
    {
        var w = new WireWriter().U8((byte)op).String(backupSubPath);
        return EncodePaths(w, paths);
    }

    public static (RemoveOp Op, string Backup, List<string> Paths) DecodeRemove(byte[] p)
    {
        var r = new SpanReader(p);
        var op = (RemoveOp)r.U8();
        if (op is not (RemoveOp.Delete or RemoveOp.MoveToBackup or RemoveOp.CopyToBackup or RemoveOp.Rename or RemoveOp.RemoveEmptyFolders))
        {
            ThrowHelper.Protocol($"unknown remove operation {(byte)op}");
        }

        string backup = r.String();
        if (op is RemoveOp.MoveToBackup or RemoveOp.CopyToBackup)
        {
            CheckPath(backup);
        }

        var paths = DecodePaths(ref r);
        r.End();
        if (op == RemoveOp.Rename && paths.Count % 2 != 0)
        {
            ThrowHelper.Protocol("rename paths must come in pairs");
        }

        return (op, backup, paths);
    }

    public static WireWriter EncodePaths(IReadOnlyList<string> paths) => EncodePaths(new WireWriter(16 + (paths.Count * 48)), paths);

    public static List<string> DecodePaths(byte[] p)
    {
        var r = new SpanReader(p);
        var list = DecodePaths(ref r);
        r.End();
        return list;
    }

    public static WireWriter EncodeTimes(IReadOnlyList<(string Path, long MtimeTicks)> items)
    {
        var w = new WireWriter(16 + (items.Count * 56)).U32((uint)items.Count);
        foreach (var (path, t) in items)
        {
            w.String(path).I64(t);
        }

        return w;
    }

    public static List<(string Path, long MtimeTicks)> DecodeTimes(byte[] p)
    {
        var r = new SpanReader(p);
        int n = r.Count(10);
        var list = new List<(string, long)>(n);
        for (int i = 0; i < n; i++)
        {
            string path = r.String();
            CheckPath(path);
            list.Add((path, r.I64()));
        }

        r.End();
        return list;
    }

    public static WireWriter EncodeHashes(IReadOnlyList<Hash256> hashes)
    {
        var w = new WireWriter(8 + (hashes.Count * Hash256.Size)).U32((uint)hashes.Count);
        Span<byte> h = stackalloc byte[Hash256.Size];
        foreach (var x in hashes)
        {
            x.Write(h);
            w.Bytes(h);
        }

        return w;
    }

    public static Hash256[] DecodeHashes(byte[] p, int expected)
    {
        var r = new SpanReader(p);
        int n = r.Count(Hash256.Size);
        if (n != expected)
        {
            ThrowHelper.Protocol($"asked for {expected} hashes, got {n}");
        }

        var list = new Hash256[n];
        for (int i = 0; i < n; i++)
        {
            list[i] = Hash256.Read(r.Bytes(Hash256.Size));
        }

        r.End();
        return list;
    }

    public static WireWriter EncodeDone(long count) => new WireWriter(8).U64((ulong)count);

    public static long DecodeDone(byte[] p)
    {
        var r = new SpanReader(p);
        ulong n = r.U64();
        r.End();
        return (long)Math.Min(n, long.MaxValue);
    }

    private static WireWriter EncodePaths(WireWriter w, IReadOnlyList<string> paths)
    {
        w.U32((uint)paths.Count);
        foreach (var path in paths)
        {
            w.String(path);
        }

        return w;
    }

    private static List<string> DecodePaths(ref SpanReader r)
    {
        int n = r.Count(2);
        var list = new List<string>(n);
        for (int i = 0; i < n; i++)
        {
            string path = r.String();
            CheckPath(path);
            list.Add(path);
        }

        return list;
    }

    private static void CheckPath(string path)
    {
        if (!PathSafety.IsSafeRelative(path, out var why))
        {
            throw new HaulException(ErrorCode.UnsafePath, $"refused folder path '{path}': {why}", "name files inside the folder with plain relative paths");
        }
    }
}
