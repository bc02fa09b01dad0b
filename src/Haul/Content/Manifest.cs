namespace Haul.Content;

/// <summary>
/// The tree a transfer moves, plus its table of distinct chunks. <see cref="Hash"/> is the SHA-256 of
/// the encoded form and is the transfer's identity: the same tree always encodes to the same bytes.
/// </summary>
internal sealed class Manifest
{
    public Manifest(IReadOnlyList<ManifestEntry> entries, ChunkInfo[] chunks, byte[] encoded)
    {
        Entries = entries;
        Chunks = chunks;
        Encoded = encoded;
        Hash = Hash256.Of(encoded);
        foreach (var e in entries)
        {
            if (e.Kind == EntryKind.File)
            {
                FileCount++;
                TotalBytes += e.Size;
            }
        }
    }

    public IReadOnlyList<ManifestEntry> Entries { get; }

    public ChunkInfo[] Chunks { get; }

    public byte[] Encoded { get; }

    public Hash256 Hash { get; }

    public int FileCount { get; }

    public long TotalBytes { get; }

    /// <summary>The top-level name (the folder or file that was sent).</summary>
    public string RootName => Entries.Count == 0 ? string.Empty : Entries[0].Path.Split('/')[0];
}
