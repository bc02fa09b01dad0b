using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Haul.Content;

/// <summary>Cuts one file into content-defined chunks and hashes them.</summary>
internal static class FileChunker
{
    private const long MapThreshold = 8L * 1024 * 1024;

    public static List<ChunkInfo> Chunk(string path, long size, FastCdc cdc)
    {
        var result = new List<ChunkInfo>((int)Math.Min(1 + (size / cdc.Avg), 1 << 20));
        if (size == 0)
        {
            return result;
        }

        if (size < MapThreshold)
        {
            byte[] buf = ArrayPool<byte>.Shared.Rent((int)size);
            try
            {
                using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                int got = 0;
                while (got < size)
                {
                    int n = RandomAccess.Read(h, buf.AsSpan(got, (int)size - got), got);
                    if (n == 0)
                    {
                        throw new HaulException(ErrorCode.CorruptData, $"'{path}' shrank while it was read", "retry when the file is no longer being written");
                    }

                    got += n;
                }

                CutAndHash(buf.AsSpan(0, (int)size), cdc, result, parallel: false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buf);
            }

            return result;
        }

        using var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = mmf.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
        unsafe
        {
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            try
            {
                basePtr += view.PointerOffset;
                long pos = 0;
                // Spans are int-sized: walk the mapping in windows and carry the unfinished tail forward.
                const int window = 1 << 30;
                while (pos < size)
                {
                    int len = (int)Math.Min(window, size - pos);
                    bool final = pos + len == size;
                    var span = new ReadOnlySpan<byte>(basePtr + pos, len);
                    int consumed = CutAndHash(span, cdc, result, parallel: true, final);
                    pos += consumed;
                }
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }

        return result;
    }

    /// <summary>Cuts <paramref name="data"/> into chunks; returns how many bytes were consumed.</summary>
    private static unsafe int CutAndHash(ReadOnlySpan<byte> data, FastCdc cdc, List<ChunkInfo> into, bool parallel, bool final = true)
    {
        var cuts = new List<(int Start, int Length)>();
        int pos = 0;
        while (pos < data.Length)
        {
            int n = cdc.NextCut(data[pos..], final);
            if (n < 0)
            {
                break;
            }

            cuts.Add((pos, n));
            pos += n;
        }

        var hashes = new Hash256[cuts.Count];
        if (parallel && cuts.Count > 1)
        {
            fixed (byte* p = data)
            {
                byte* basePtr = p;
                Parallel.For(0, cuts.Count, i =>
                {
                    var (s, l) = cuts[i];
                    hashes[i] = Hash256.Of(new ReadOnlySpan<byte>(basePtr + s, l));
                });
            }
        }
        else
        {
            for (int i = 0; i < cuts.Count; i++)
            {
                hashes[i] = Hash256.Of(data.Slice(cuts[i].Start, cuts[i].Length));
            }
        }

        for (int i = 0; i < cuts.Count; i++)
        {
            into.Add(new ChunkInfo(hashes[i], cuts[i].Length));
        }

        return pos;
    }
}
