using System.Buffers;

namespace Haul.Content;

/// <summary>
/// Cuts one file into content-defined chunks and hashes them. Reads in blocks into pooled buffers
/// (mapping the file would count the whole file in the process's RSS). Large files are pipelined:
/// while one block is cut (one core; 1.5 GB/s on the 2-core test VM), the previous one is hashed on
/// the others (SHA-256, 1.2 GB/s a core there).
/// </summary>
internal static class FileChunker
{
    // The three rotating blocks of a large file are mapped pages, unmapped when the scan ends: a node
    // that scans then sends does not carry the scan's 24 MiB through the send (a pooled array would).
    private const int Block = 4 * 1024 * 1024;

    // Blocks are hashed one after another, each on all cores but the one that cuts: with the cutter
    // time-sliced against as many hashers as cores, cutting (the part that cannot be split) ran at two
    // thirds speed on two cores and set the pace.
    private static readonly ParallelOptions Hashers = new() { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount - 1) };

    public static List<ChunkInfo> Chunk(string path, long size, FastCdc cdc)
    {
        var result = new List<ChunkInfo>((int)Math.Min(1 + (size / cdc.Avg), 1 << 20));
        if (size == 0)
        {
            return result;
        }

        using var h = Open(path);
        if (size <= Block)
        {
            byte[] buf = ArrayPool<byte>.Shared.Rent((int)size);
            try
            {
                int have = Fill(h, path, buf, 0, (int)size, 0, size);
                var cuts = Cut(buf, have, cdc, final: true, out _);
                HashInto(buf, cuts, result);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buf);
            }

            return result;
        }

        // Large file: three rotating blocks, so cutting block k (one thread) overlaps hashing block
        // k−1 (the pool). The unfinished chunk at a block's end is copied to the front of the next.
        int cap = Block + cdc.Max;
        var bufs = new Native.PageBuffer?[3];
        var hashing = new Task[3];
        Array.Fill(hashing, Task.CompletedTask);
        var parts = new List<(List<(int Start, int Length)> Cuts, Hash256[] Hashes)>();

        try
        {
            long fileOff = 0;
            int carry = 0, carryFrom = 0, k = 0;
            Native.PageBuffer? prev = null;
            while (true)
            {
                int slot = k % 3;
                hashing[slot].GetAwaiter().GetResult();
                var buf = bufs[slot] ??= new Native.PageBuffer(cap);
                if (carry > 0)
                {
                    // The previous block's hashing never touches its tail, so this copy is safe.
                    prev!.Span.Slice(carryFrom, carry).CopyTo(buf.Span);
                }

                int have = Fill(h, path, buf.Span, carry, cap, fileOff, size);
                fileOff += have - carry;
                bool final = fileOff >= size;
                var cuts = Cut(buf.Span, have, cdc, final, out int pos);
                var hashes = new Hash256[cuts.Count];
                parts.Add((cuts, hashes));
                hashing[slot] = hashing[(slot + 2) % 3].ContinueWith(
                    _ => Parallel.For(0, cuts.Count, Hashers, i => hashes[i] = Hash256.Of(buf.Span.Slice(cuts[i].Start, cuts[i].Length))),
                    CancellationToken.None,
                    TaskContinuationOptions.None,
                    TaskScheduler.Default);
                if (final && pos == have)
                {
                    break;
                }

                (prev, carryFrom, carry) = (buf, pos, have - pos);
                k++;
            }

            Task.WaitAll(hashing);
        }
        finally
        {
            foreach (var t in hashing)
            {
                // Buffers go back only once no hash task reads them.
                t.ContinueWith(_ => { }, TaskScheduler.Default).Wait();
            }

            foreach (var b in bufs)
            {
                b?.Dispose();
            }
        }

        foreach (var (cuts, hashes) in parts)
        {
            for (int i = 0; i < cuts.Count; i++)
            {
                result.Add(new ChunkInfo(hashes[i], cuts[i].Length));
            }
        }

        return result;
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle Open(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"permission denied reading '{path}'", "fix the permissions or send as a user who can read it", ex);
        }
        catch (FileNotFoundException ex)
        {
            throw new HaulException(ErrorCode.PathNotFound, $"'{path}' disappeared while it was being scanned", "run the send again", ex);
        }
    }

    /// <summary>Reads from <paramref name="fileOff"/> into buf[from..cap) until full or end of file; returns the bytes now in buf.</summary>
    private static int Fill(Microsoft.Win32.SafeHandles.SafeFileHandle h, string path, Span<byte> buf, int from, int cap, long fileOff, long size)
    {
        int have = from;
        while (have < cap && fileOff < size)
        {
            int n = RandomAccess.Read(h, buf.Slice(have, (int)Math.Min(cap - have, size - fileOff)), fileOff);
            if (n == 0)
            {
                throw new HaulException(ErrorCode.CorruptData, $"'{path}' shrank while it was read", "retry when the file is no longer being written");
            }

            have += n;
            fileOff += n;
        }

        return have;
    }

    private static List<(int Start, int Length)> Cut(ReadOnlySpan<byte> buf, int have, FastCdc cdc, bool final, out int pos)
    {
        var cuts = new List<(int Start, int Length)>();
        pos = 0;
        while (pos < have)
        {
            int n = cdc.NextCut(buf.Slice(pos, have - pos), final);
            if (n < 0)
            {
                break;
            }

            cuts.Add((pos, n));
            pos += n;
        }

        return cuts;
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
