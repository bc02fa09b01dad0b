using System.Buffers;
using System.Numerics;

namespace Haul.Transfer;

/// <summary>
/// Chunk-sized buffers shared by the sender and receiver paths. What it keeps between uses is capped
/// in bytes across all sizes (64 MiB), not per size: chunks vary from 1 KiB to 4 MiB, and a per-size
/// bucket limit let each size keep its own peak, so a long send slowly retained the sum of every
/// size's peak (the sending node's GC heap grew 67 → 92 MB over 10 GiB). Buffers out in flight are
/// bounded by the sender window and the receiver's reassembly budget, not by this pool.
/// </summary>
internal static class BufferPool
{
    public static readonly ArrayPool<byte> Chunks = new BoundedBytePool(maxArrayLength: 8 * 1024 * 1024, retainBytes: 64L * 1024 * 1024);
}

/// <summary>
/// Power-of-two buckets (4 KiB … max), reused arrays handed out uncleared, at most <c>retainBytes</c> kept in
/// total; a return beyond the cap drops the array for the GC.
/// </summary>
internal sealed class BoundedBytePool : ArrayPool<byte>
{
    private const int MinShift = 12;
    private readonly Stack<byte[]>[] _buckets;
    private readonly int _maxArrayLength;
    private readonly long _retainBytes;
    private readonly Lock _lock = new();
    private long _retained;

    public BoundedBytePool(int maxArrayLength, long retainBytes)
    {
        _maxArrayLength = maxArrayLength;
        _retainBytes = retainBytes;
        _buckets = new Stack<byte[]>[Shift(maxArrayLength) - MinShift + 1];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Stack<byte[]>();
        }
    }

    /// <summary>Bytes now kept in the pool (not out on loan).</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_lock)
            {
                return _retained;
            }
        }
    }

    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength > _maxArrayLength)
        {
            return new byte[minimumLength];
        }

        int shift = Shift(minimumLength);
        lock (_lock)
        {
            // Its own size first, else one or two sizes up: as the mix of chunk sizes drifts during a
            // long send, the arrays already made serve it instead of new ones piling up uncollected.
            for (int b = shift - MinShift; b < Math.Min(_buckets.Length, shift - MinShift + 3); b++)
            {
                if (_buckets[b].TryPop(out var a))
                {
                    _retained -= a.Length;
                    return a;
                }
            }
        }

        return new byte[1 << shift];
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        int len = array.Length;
        if (len < 1 << MinShift || len > _maxArrayLength || !BitOperations.IsPow2(len))
        {
            return;
        }

        if (clearArray)
        {
            Array.Clear(array);
        }

        lock (_lock)
        {
            if (_retained + len <= _retainBytes)
            {
                _buckets[Shift(len) - MinShift].Push(array);
                _retained += len;
            }
        }
    }

    private static int Shift(int length) => Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)Math.Max(length, 1) - 1));
}
