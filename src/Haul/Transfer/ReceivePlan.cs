using Haul.Content;

namespace Haul.Transfer;

/// <summary>
/// Receiver-side index of a manifest: for each chunk, every (file, offset) it must be written to,
/// and for each file how many chunk placements are still missing.
/// </summary>
internal sealed class ReceivePlan
{
    public ReceivePlan(Manifest manifest)
    {
        Manifest = manifest;
        var files = new List<int>();
        for (int i = 0; i < manifest.Entries.Count; i++)
        {
            if (manifest.Entries[i].Kind == EntryKind.File)
            {
                files.Add(i);
            }
        }

        FileEntries = [.. files];
        int chunkCount = manifest.Chunks.Length;
        LocationStart = new int[chunkCount + 1];
        FileRemaining = new int[FileEntries.Length];
        for (int f = 0; f < FileEntries.Length; f++)
        {
            var refs = manifest.Entries[FileEntries[f]].Chunks;
            FileRemaining[f] = refs.Length;
            foreach (var c in refs)
            {
                LocationStart[c + 1]++;
            }
        }

        for (int c = 0; c < chunkCount; c++)
        {
            LocationStart[c + 1] += LocationStart[c];
        }

        LocationFile = new int[LocationStart[chunkCount]];
        LocationOffset = new long[LocationStart[chunkCount]];
        var fill = new int[chunkCount];
        for (int f = 0; f < FileEntries.Length; f++)
        {
            long off = 0;
            foreach (var c in manifest.Entries[FileEntries[f]].Chunks)
            {
                int slot = LocationStart[c] + fill[c]++;
                LocationFile[slot] = f;
                LocationOffset[slot] = off;
                off += manifest.Chunks[c].Length;
            }
        }
    }

    public Manifest Manifest { get; }

    /// <summary>File ordinal → manifest entry index.</summary>
    public int[] FileEntries { get; }

    public int[] LocationStart { get; }

    public int[] LocationFile { get; }

    public long[] LocationOffset { get; }

    /// <summary>Chunk placements still to write, per file ordinal.</summary>
    public int[] FileRemaining { get; }

    public ManifestEntry File(int ordinal) => Manifest.Entries[FileEntries[ordinal]];
}
