using Haul.Protocol;

namespace Haul.Content;

/// <summary>
/// Binary form of a <see cref="Manifest"/> (layout in docs/protocol.md). Decoding validates everything
/// a malicious peer could bend: counts, chunk indexes, sizes against chunk lengths, path safety,
/// duplicate paths and entries nested under non-directories.
/// </summary>
internal static class ManifestCodec
{
    public const uint Magic = 0x484D4631; // "HMF1"
    public const ushort Version = 1;
    public const int MaxChunkLength = 64 * 1024 * 1024;

    public static Manifest Create(IReadOnlyList<ManifestEntry> entries, ChunkInfo[] chunks)
    {
        var w = new WireWriter(64 + (chunks.Length * 36) + (entries.Count * 64));
        w.U32(Magic).U16(Version).U16(0);
        w.U32((uint)chunks.Length);
        Span<byte> h = stackalloc byte[Hash256.Size];
        foreach (var c in chunks)
        {
            c.Hash.Write(h);
            w.Bytes(h).U32((uint)c.Length);
        }

        w.U32((uint)entries.Count);
        foreach (var e in entries)
        {
            w.U8((byte)e.Kind).String(e.Path).U32((uint)e.Mode).I64(e.MtimeUnixNs);
            switch (e.Kind)
            {
                case EntryKind.File:
                    w.U64((ulong)e.Size).U32((uint)e.Chunks.Length);
                    foreach (var ci in e.Chunks)
                    {
                        w.U32((uint)ci);
                    }

                    break;
                case EntryKind.Symlink:
                    w.String(e.LinkTarget ?? string.Empty);
                    break;
            }
        }

        return new Manifest(entries, chunks, w.ToArray());
    }

    public static Manifest Decode(byte[] encoded)
    {
        var r = new SpanReader(encoded);
        if (r.U32() != Magic)
        {
            ThrowHelper.Protocol("not a haul manifest");
        }

        ushort version = r.U16();
        if (version != Version)
        {
            ThrowHelper.Protocol($"manifest version {version} is not supported (this node reads {Version})");
        }

        r.U16();
        int chunkCount = r.Count(36);
        var chunks = new ChunkInfo[chunkCount];
        for (int i = 0; i < chunkCount; i++)
        {
            var hash = Hash256.Read(r.Bytes(Hash256.Size));
            uint len = r.U32();
            if (len == 0 || len > MaxChunkLength)
            {
                ThrowHelper.Protocol($"chunk {i} has invalid length {len}");
            }

            chunks[i] = new ChunkInfo(hash, (int)len);
        }

        int entryCount = r.Count(15);
        var entries = new List<ManifestEntry>(entryCount);
        var kinds = new Dictionary<string, EntryKind>(entryCount, StringComparer.Ordinal);
        for (int i = 0; i < entryCount; i++)
        {
            var kind = (EntryKind)r.U8();
            string path = r.String();
            if (!PathSafety.IsSafeRelative(path, out var why))
            {
                throw new HaulException(ErrorCode.UnsafePath, $"refused manifest path '{path}': {why}", "the sender must send a tree of plain relative paths");
            }

            // Permission bits only: a peer never sets setuid, setgid or sticky here (placement also applies the umask).
            var mode = (UnixFileMode)(r.U32() & 0x1FF);
            long mtime = r.I64();
            long size = 0;
            int[] refs = [];
            string? target = null;
            switch (kind)
            {
                case EntryKind.File:
                    ulong usize = r.U64();
                    int n = r.Count(4);
                    refs = new int[n];
                    long sum = 0;
                    for (int k = 0; k < n; k++)
                    {
                        uint ci = r.U32();
                        if (ci >= (uint)chunkCount)
                        {
                            ThrowHelper.Protocol($"'{path}' names chunk {ci} of {chunkCount}");
                        }

                        refs[k] = (int)ci;
                        sum += chunks[ci].Length;
                    }

                    if (usize > long.MaxValue || (long)usize != sum)
                    {
                        ThrowHelper.Protocol($"'{path}' size {usize} does not match its chunks ({sum})");
                    }

                    size = (long)usize;
                    break;
                case EntryKind.Directory:
                    break;
                case EntryKind.Symlink:
                    target = r.String();
                    if (!PathSafety.SymlinkStaysInside(path, target))
                    {
                        throw new HaulException(ErrorCode.UnsafePath, $"refused symlink '{path}' -> '{target}': it points outside the transfer", "send the link's target instead of the link");
                    }

                    break;
                default:
                    ThrowHelper.Protocol($"unknown entry kind {(byte)kind}");
                    break;
            }

            if (!kinds.TryAdd(path, kind))
            {
                ThrowHelper.Protocol($"duplicate path '{path}'");
            }

            int slash = path.LastIndexOf('/');
            if (slash > 0 && kinds.TryGetValue(path[..slash], out var parentKind) && parentKind != EntryKind.Directory)
            {
                throw new HaulException(ErrorCode.UnsafePath, $"refused '{path}': its parent is not a directory", "the sender's tree is inconsistent");
            }

            entries.Add(new ManifestEntry(path, kind, mode, mtime, size, refs, target));
        }

        r.End();
        // Parents must precede children, so every ancestor that exists in the manifest was checked above;
        // an ancestor that appears later would be a non-directory masquerading after the fact.
        foreach (var e in entries)
        {
            int slash = e.Path.IndexOf('/');
            while (slash > 0)
            {
                if (kinds.TryGetValue(e.Path[..slash], out var k) && k != EntryKind.Directory)
                {
                    throw new HaulException(ErrorCode.UnsafePath, $"refused '{e.Path}': an ancestor is not a directory", "the sender's tree is inconsistent");
                }

                slash = e.Path.IndexOf('/', slash + 1);
            }
        }

        return new Manifest(entries, chunks, encoded);
    }
}
