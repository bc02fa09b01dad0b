namespace Haul.Transfer;

/// <summary>
/// Sender-side state of one chunk in flight. Guarded by the sender's lock. <see cref="Data"/> is a
/// pooled buffer returned only by the send thread, after the chunk is done, so it is never recycled
/// while a packet is being sealed from it.
/// </summary>
internal sealed class SendChunk
{
    public SendChunk(int index, int length, byte[] data, int pieceSize)
    {
        Index = index;
        Length = length;
        Data = data;
        Pieces = DataFormat.PieceCount(length, pieceSize);
        LastSent = new long[Pieces];
        Known = new ulong[(Pieces + 63) / 64];
        Queued = new ulong[(Pieces + 63) / 64];
    }

    public int Index { get; }

    public int Length { get; }

    public byte[] Data { get; }

    public int Pieces { get; }

    public int NextNew { get; set; }

    public long[] LastSent { get; }

    public ulong[] Known { get; }

    public ulong[] Queued { get; }

    public bool AllKnown { get; set; }

    public bool Done { get; set; }

    public int BadCount { get; set; }

    public long LastSendTicks { get; set; }

    public static bool Get(ulong[] bits, int i) => (bits[i >> 6] & (1UL << (i & 63))) != 0;

    public static void Set(ulong[] bits, int i) => bits[i >> 6] |= 1UL << (i & 63);

    public static void Clear(ulong[] bits, int i) => bits[i >> 6] &= ~(1UL << (i & 63));

    /// <summary>Sets bits [from, to) a word at a time.</summary>
    /// <summary>Sets bits [from, to); returns how many were not set before.</summary>
    public static int SetRange(ulong[] bits, int from, int to)
    {
        int added = 0;
        while (from < to)
        {
            int word = from >> 6;
            int bit = from & 63;
            int n = Math.Min(64 - bit, to - from);
            ulong mask = n == 64 ? ulong.MaxValue : ((1UL << n) - 1) << bit;
            added += System.Numerics.BitOperations.PopCount(mask & ~bits[word]);
            bits[word] |= mask;
            from += n;
        }

        return added;
    }

    public void Reset()
    {
        NextNew = 0;
        AllKnown = false;
        Array.Clear(Known);
        Array.Clear(Queued);
        Array.Clear(LastSent);
    }
}
