using System.Buffers;

namespace Haul.Content;

/// <summary>
/// Cuts one file into content-defined chunks and hashes them. Reads in blocks into a pooled buffer
/// (mapping the file would count the whole file in the process's RSS) and hashes the chunks of each
/// block in parallel.
/// </summary>
internal static class FileChunker
{
    private const int Block = 8 * 1024 * 1024;

    public static List<ChunkInfo> Chunk(string path, long size, FastCdc cdc)
    {
        var result = new List<ChunkInfo>((int)Math.Min(1 + (size / cdc.Avg), 1 << 20));
        if (size == 0)
        {
            return result;
        }

        int cap = (int)Math.Min(size, Block + cdc.Max);
        byte[] buf = ArrayPool<byte>.Shared.Rent(cap);
        var cuts = new List<(int Start, int Length)>();
        try
        {
            using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long fileOff = 0;
            int have = 0;
            while (true)
            {
                while (have < cap && fileOff < size)
                {
                    int n = RandomAccess.Read(h, buf.AsSpan(have, (int)Math.Min(cap - have, size - fileOff)), fileOff);
                    if (n == 0)
                    {
                        throw new HaulException(ErrorCode.CorruptData, $"'{path}' shrank while it was read", "retry when the file is no longer being written");
                    }

                    have += n;
                    fileOff += n;
                }

                bool final = fileOff >= size;
                cuts.Clear();
                int pos = 0;
                while (pos < have)
                {
                    int n = cdc.NextCut(buf.AsSpan(pos, have - pos), final);
                    if (n < 0)
                    {
                        break;
                    }

                    cuts.Add((pos, n));
                    pos += n;
                }

                HashInto(buf, cuts, result);
                if (final && pos == have)
                {
                    return result;
                }

                Buffer.BlockCopy(buf, pos, buf, 0, have - pos);
                have -= pos;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    private static void HashInto(byte[] buf, List<(int Start, int Length)> cuts, List<ChunkInfo> into)
    {
        var hashes = new Hash256[cuts.Count];
        if (cuts.Count > 1)
        {
            Parallel.For(0, cuts.Count, i => hashes[i] = Hash256.Of(buf.AsSpan(cuts[i].Start, cuts[i].Length)));
        }
        else if (cuts.Count == 1)
        {
            hashes[0] = Hash256.Of(buf.AsSpan(cuts[0].Start, cuts[0].Length));
        }

        for (int i = 0; i < cuts.Count; i++)
        {
            into.Add(new ChunkInfo(hashes[i], cuts[i].Length));
        }
    }
}
