using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Haul.Content;

/// <summary>
/// FastCDC content-defined chunking (Xia et al., USENIX ATC 2016) with normalized chunking level 2.
/// Cut points depend only on the last 64 bytes seen, so inserting bytes moves boundaries only near the
/// insertion and the rest of the chunks keep their hashes.
/// </summary>
internal sealed class FastCdc
{
    public const int DefaultMin = 256 * 1024;
    public const int DefaultAvg = 1024 * 1024;
    public const int DefaultMax = 4 * 1024 * 1024;

    private static readonly ulong[] Gear = BuildGear();

    private readonly ulong _maskS;
    private readonly ulong _maskL;

    public FastCdc(int min = DefaultMin, int avg = DefaultAvg, int max = DefaultMax)
    {
        if (min <= 0 || avg <= min || max <= avg || !int.IsPow2(avg))
        {
            throw new ArgumentOutOfRangeException(nameof(avg), "need 0 < min < avg < max and avg a power of two");
        }

        Min = min;
        Avg = avg;
        Max = max;
        int bits = int.Log2(avg);
        // Masks use the high bits: with a left-shifting gear hash they depend on the last 64 bytes,
        // while the low bits depend only on the last few.
        _maskS = HighMask(bits + 2);
        _maskL = HighMask(bits - 2);
    }

    public int Min { get; }

    public int Avg { get; }

    public int Max { get; }

    /// <summary>
    /// Length of the next chunk at the start of <paramref name="data"/>. When <paramref name="final"/>
    /// is false and no cut is found, returns -1: the caller must supply more data (up to <see cref="Max"/>).
    /// </summary>
    public unsafe int NextCut(ReadOnlySpan<byte> data, bool final)
    {
        int n = data.Length;
        if (n <= Min)
        {
            return final ? n : (n >= Max ? Max : -1);
        }

        int normal = Math.Min(Avg, n);
        int limit = Math.Min(Max, n);

        fixed (byte* start = data)
        fixed (ulong* gear = Gear)
        {
            byte* p = Find(start + Min, start + normal, gear, _maskS, 0, out ulong hash);
            if (p == null)
            {
                p = Find(start + normal, start + limit, gear, _maskL, hash, out _);
            }

            if (p != null)
            {
                return (int)(p - start);
            }
        }

        if (limit == Max)
        {
            return Max;
        }

        return final ? n : -1;
    }

    /// <summary>
    /// Rolls the gear hash over [p, end) from <paramref name="hash"/>; returns one past the first byte after
    /// which the hash has no bit of <paramref name="mask"/> set, or null (with the hash so far).
    /// </summary>
    /// <remarks>
    /// The scan's hot loop, kept in a method of its own with pointer arguments and always fully optimised:
    /// written inline in NextCut, its speed depended on how NextCut was compiled (tiered JIT 1.5 GB/s,
    /// ReadyToRun about half that, fully optimised JIT 0.4 GB/s with the hash kept in a stack slot).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe byte* Find(byte* p, byte* end, ulong* gear, ulong mask, ulong hash, out ulong hashOut)
    {
        ulong h = hash;
        while (p < end)
        {
            h = (h << 1) + gear[*p++];
            if ((h & mask) == 0)
            {
                hashOut = h;
                return p;
            }
        }

        hashOut = h;
        return null;
    }

    private static ulong HighMask(int bits) => bits >= 64 ? ulong.MaxValue : ((1UL << bits) - 1) << (64 - bits);

    private static ulong[] BuildGear()
    {
        // A fixed, documented table: every node must cut at the same places.
        var table = new ulong[256];
        Span<byte> seed = stackalloc byte[32];
        Span<byte> input = stackalloc byte[12];
        "haul-gear"u8.CopyTo(input);
        for (int i = 0; i < 256; i++)
        {
            input[9] = (byte)i;
            SHA256.HashData(input, seed);
            table[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(seed);
        }

        return table;
    }
}
