namespace Haul.Transfer;

/// <summary>
/// The sender's loss recovery: which pieces to send again and when. Two paths feed one queue that the
/// send loop drains ahead of new data. NACK: a piece the receiver reports missing below what it has
/// seen is resent once it has been out longer than the NACK guard (1.25 × SRTT + 2 ms), so a resend
/// still in flight is not sent a third time. Timeout: a chunk sent in full and not wholly confirmed
/// has each unconfirmed piece resent once it has been out a retransmission timeout
/// (<see cref="RttEstimator.RetransmitTimeout"/>, after the NACK guard). A piece is queued at most
/// once until the send loop takes it (the chunk's Queued bit), so a timeout that fires beside a NACK,
/// or twice before the send loop runs, does not send it twice.
/// </summary>
/// <remarks>
/// Keeps no clock: every decision takes <c>now</c> in ticks of <see cref="TicksPerSecond"/> (Stopwatch
/// ticks in the sender, any unit in tests). Not thread-safe: the sender calls it under its lock.
/// The timeout does not back off exponentially: what is in flight is paced by the rate controller, not
/// a window, so a resend does not wait on the timer to leave, and the timeout follows the RTT
/// estimate, which grows with the queue a resend storm would build.
/// </remarks>
internal sealed class LossRecovery
{
    private readonly Queue<(SendChunk Chunk, int Piece)> _resend = new();
    private long _knownPieces;

    public LossRecovery(RttEstimator rtt, long ticksPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticksPerSecond);
        Rtt = rtt;
        TicksPerSecond = ticksPerSecond;
    }

    public RttEstimator Rtt { get; }

    public long TicksPerSecond { get; }

    /// <summary>Resends queued because the receiver reported the piece missing.</summary>
    public long QueuedByNack { get; private set; }

    /// <summary>Resends queued because no report covered the piece within the timeout.</summary>
    public long QueuedByTimeout { get; private set; }

    /// <summary>Resends waiting for the send loop.</summary>
    public int Pending => _resend.Count;

    /// <summary>Pieces the receiver has confirmed for the first time, in total (only grows: read by the stall watch from another thread).</summary>
    public long KnownPieces => Volatile.Read(ref _knownPieces);

    /// <summary>A NACK range from the receiver's ACK: in order, not empty, within the pieces it has seen (64-bit sum: a 32-bit end can wrap negative).</summary>
    internal static bool AckRangeFits(int start, int count, int cursor, int seen) =>
        start >= cursor && count > 0 && (long)start + count <= seen;

    /// <summary>A piece leaves now (first send or resend).</summary>
    public static void OnSent(SendChunk chunk, int piece, long now)
    {
        chunk.LastSent[piece] = now;
        chunk.LastSendTicks = now;
    }

    /// <summary>
    /// One ACK entry for <paramref name="chunk"/>: every piece below <paramref name="seen"/> outside the
    /// missing <paramref name="ranges"/> (<paramref name="rangeCount"/> × <see cref="AckCodec.RangeSize"/>
    /// bytes) is confirmed; the missing ones are queued for a resend past the NACK guard. An entry whose
    /// ranges are out of order, empty or beyond <paramref name="seen"/> is taken only as far as it was
    /// valid. Returns true when something was queued.
    /// </summary>
    public bool OnAckEntry(SendChunk chunk, int seen, ReadOnlySpan<byte> ranges, int rangeCount, long now)
    {
        if (seen > chunk.Pieces || ranges.Length < rangeCount * AckCodec.RangeSize)
        {
            return false;
        }

        long guard = (long)(Rtt.NackGuard * TicksPerSecond);
        bool queued = false;
        int cursor = 0;
        for (int r = 0; r < rangeCount; r++)
        {
            var (start, count) = AckCodec.ReadRange(ranges[(r * AckCodec.RangeSize)..]);
            if (!AckRangeFits(start, count, cursor, seen))
            {
                return queued;
            }

            _knownPieces += SendChunk.SetRange(chunk.Known, cursor, start);
            for (int p = start; p < start + count; p++)
            {
                if (!SendChunk.Get(chunk.Queued, p) && now - chunk.LastSent[p] >= guard)
                {
                    Queue(chunk, p);
                    QueuedByNack++;
                    queued = true;
                }
            }

            cursor = start + count;
        }

        _knownPieces += SendChunk.SetRange(chunk.Known, cursor, seen);
        if (seen == chunk.Pieces && rangeCount == 0)
        {
            chunk.AllKnown = true;
        }

        return queued;
    }

    /// <summary>The timeout path: pieces of fully sent chunks in <paramref name="window"/> that no report confirmed within the timeout.</summary>
    public void OnTimer(IReadOnlyList<SendChunk> window, long now)
    {
        long rto = (long)(Rtt.RetransmitTimeout * TicksPerSecond);
        for (int i = 0; i < window.Count; i++)
        {
            var ch = window[i];
            if (ch.AllKnown || ch.NextNew < ch.Pieces || now - ch.LastSendTicks < rto)
            {
                continue;
            }

            for (int p = 0; p < ch.Pieces; p++)
            {
                if (!SendChunk.Get(ch.Known, p) && !SendChunk.Get(ch.Queued, p) && now - ch.LastSent[p] >= rto)
                {
                    Queue(ch, p);
                    QueuedByTimeout++;
                }
            }
        }
    }

    /// <summary>The next piece to send again, skipping those confirmed or whose chunk finished since they were queued.</summary>
    public bool TryNextResend(out SendChunk chunk, out int piece)
    {
        while (_resend.TryDequeue(out var r))
        {
            SendChunk.Clear(r.Chunk.Queued, r.Piece);
            if (!r.Chunk.Done && !SendChunk.Get(r.Chunk.Known, r.Piece))
            {
                (chunk, piece) = r;
                return true;
            }
        }

        (chunk, piece) = (null!, 0);
        return false;
    }

    private void Queue(SendChunk chunk, int piece)
    {
        SendChunk.Set(chunk.Queued, piece);
        _resend.Enqueue((chunk, piece));
    }
}
