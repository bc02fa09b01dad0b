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

    /// <summary>
    /// The largest manifest a node takes, in encoded (decoded from the wire) bytes. A file of one chunk
    /// costs 67 bytes plus its path, so a tree of 1,000,000 small files (the sync bench's million) with
    /// 60-byte paths encodes to about 127 MB, and with the bench's own 19-byte paths to 86 MB: 256 MiB
    /// holds twice the former. Without a limit a peer's OFFER could claim 2^34 bytes and a 1.6 KB
    /// Brotli part grew the receiver past its MemoryMax. A bigger tree is sent as several transfers.
    /// </summary>
    public const int MaxEncodedLength = 256 * 1024 * 1024;

    /// <summary>
    /// The most entries a manifest may hold: twice the sync bench's 1,000,000. Bounds the decoded form
    /// too (each entry costs ~200 bytes of objects against as few as 15 encoded bytes, so 256 MiB of
    /// tiny entries would otherwise decode into gigabytes).
    /// </summary>
    public const int MaxEntries = 2_000_000;

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
        if (encoded.Length > MaxEncodedLength)
        {
            throw TooLarge($"{encoded.Length} bytes");
        }

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
        if (entryCount > MaxEntries)
        {
            throw TooLarge($"{entryCount} entries");
        }

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
                        throw new HaulException(ErrorCode.UnsafePath, $"refused symlink '{path}' -> '{target}': it points outside the transfer", "send with -L/--copy-links (what the links point at goes as regular files), or send the link's target");
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
        // No entry may lie under a file or a link, wherever the two stand in the manifest. Looking up
        // every ancestor of every entry cost depth x length per entry (4,000 entries 2,040 levels deep,
        // a 22 KB OFFER, took 10 s of CPU); instead, for each file or link, one binary search in the
        // sorted paths for the first one under it: n log n, whatever the depth.
        var sorted = new string[entries.Count];
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i] = entries[i].Path;
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Kind == EntryKind.Directory)
            {
                continue;
            }

            string under = e.Path + "/";
            int at = Array.BinarySearch(sorted, under, StringComparer.Ordinal);
            if (at < 0)
            {
                at = ~at;
            }

            if (at < sorted.Length && sorted[at].StartsWith(under, StringComparison.Ordinal))
            {
                throw new HaulException(ErrorCode.UnsafePath, $"refused '{sorted[at]}': an ancestor is not a directory", "the sender's tree is inconsistent");
            }
        }

        return new Manifest(entries, chunks, encoded);
    }

    /// <summary>A manifest over this node's limits: refused with what it claimed, before anything is allocated for it.</summary>
    internal static HaulException TooLarge(string what) => new(
        ErrorCode.ProtocolError,
        $"refused a manifest of {what}: this node takes at most {MaxEncodedLength >> 20} MiB and {MaxEntries:N0} entries",
        "send the tree as several smaller transfers");
}
