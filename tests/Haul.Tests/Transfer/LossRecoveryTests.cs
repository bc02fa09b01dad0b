using Haul.Transfer;

namespace Haul.Tests.Transfer;

/// <summary>
/// The sender's loss recovery on a virtual clock (µs ticks): what is resent, when, and never twice
/// while a resend is queued or in flight.
/// </summary>
[Trait("Category", "Unit")]
public sealed class LossRecoveryTests
{
    private const long Ms = 1000;
    private const int PieceSize = 1000;

    // SRTT 100 ms, RTTVAR 50 ms: NACK guard 127 ms, timeout max(100 + 4 × 50, 150, 30) = 300 ms.
    private static LossRecovery Recovery(double rtt = 0.1) => new(new RttEstimator(rtt), 1_000_000);

    private static SendChunk SentAt(int pieces, long at)
    {
        var ch = new SendChunk(0, pieces * PieceSize, new byte[pieces * PieceSize], PieceSize);
        for (int p = 0; p < pieces; p++)
        {
            LossRecovery.OnSent(ch, p, at);
        }

        ch.NextNew = pieces;
        return ch;
    }

    private static byte[] Ranges(params (int Start, int Count)[] ranges)
    {
        var b = new byte[ranges.Length * AckCodec.RangeSize];
        for (int i = 0; i < ranges.Length; i++)
        {
            AckCodec.WriteRange(b.AsSpan(i * AckCodec.RangeSize), ranges[i].Start, ranges[i].Count);
        }

        return b;
    }

    private static List<int> Drain(LossRecovery loss, long now)
    {
        var resent = new List<int>();
        while (loss.TryNextResend(out var ch, out int p))
        {
            LossRecovery.OnSent(ch, p, now);
            resent.Add(p);
        }

        return resent;
    }

    [Fact]
    public void APieceReportedMissing_IsResentOnlyOnceItHasBeenOutPastTheNackGuard()
    {
        var loss = Recovery();
        var ch = SentAt(10, 0);
        Assert.False(loss.OnAckEntry(ch, 10, Ranges((3, 1)), 1, 126 * Ms));
        Assert.Equal(0, loss.Pending);
        Assert.Equal(9, loss.KnownPieces);

        Assert.True(loss.OnAckEntry(ch, 10, Ranges((3, 1)), 1, 128 * Ms));
        Assert.Equal([3], Drain(loss, 128 * Ms));
        Assert.Equal(1, loss.QueuedByNack);
        Assert.Equal(9, loss.KnownPieces); // confirmations count once
    }

    [Fact]
    public void ANackForAResendStillInFlight_OrStillQueued_DoesNotSendItAgain()
    {
        var loss = Recovery();
        var ch = SentAt(10, 0);
        Assert.True(loss.OnAckEntry(ch, 10, Ranges((3, 1)), 1, 200 * Ms));
        Assert.False(loss.OnAckEntry(ch, 10, Ranges((3, 1)), 1, 201 * Ms)); // still queued
        Assert.Equal([3], Drain(loss, 202 * Ms));

        // The next ACKs were sent before the resend arrived: still missing, but the resend is in flight.
        Assert.False(loss.OnAckEntry(ch, 10, Ranges((3, 1)), 1, 300 * Ms));
        Assert.Empty(Drain(loss, 300 * Ms));

        // Past the guard again, the resend itself counts as lost.
        Assert.True(loss.OnAckEntry(ch, 10, Ranges((3, 1)), 1, 330 * Ms));
        Assert.Equal([3], Drain(loss, 330 * Ms));
        Assert.Equal(2, loss.QueuedByNack);
    }

    [Fact]
    public void TheTimeout_ResendsWhatNoReportCovered_AfterTheWholeChunkLeft_AndAFullTimeoutAfterEachResend()
    {
        var loss = Recovery();
        var ch = SentAt(10, 0);
        ch.NextNew = 9; // not all sent yet: no timeout
        loss.OnTimer([ch], 400 * Ms);
        Assert.Equal(0, loss.Pending);

        ch.NextNew = 10;
        loss.OnTimer([ch], 299 * Ms);
        Assert.Equal(0, loss.Pending);
        Assert.True(loss.OnAckEntry(ch, 6, Ranges(), 0, 250 * Ms) is false); // 0..5 confirmed, 6..9 never reported
        loss.OnTimer([ch], 300 * Ms);
        Assert.Equal([6, 7, 8, 9], Drain(loss, 300 * Ms));
        Assert.Equal(4, loss.QueuedByTimeout);

        // A spurious timeout (the ACK was only late) does not fire again before a full timeout has passed.
        loss.OnTimer([ch], 599 * Ms);
        Assert.Equal(0, loss.Pending);
        loss.OnTimer([ch], 600 * Ms);
        Assert.Equal([6, 7, 8, 9], Drain(loss, 600 * Ms));

        // Once everything is confirmed the chunk never times out.
        loss.OnAckEntry(ch, 10, Ranges(), 0, 650 * Ms);
        Assert.True(ch.AllKnown);
        loss.OnTimer([ch], 5_000 * Ms);
        Assert.Equal(0, loss.Pending);
    }

    [Fact]
    public void ATimeoutAndANackTogether_QueueAPieceOnce()
    {
        var loss = Recovery();
        var ch = SentAt(10, 0);
        loss.OnTimer([ch], 300 * Ms);
        Assert.Equal(10, loss.Pending);
        Assert.False(loss.OnAckEntry(ch, 10, Ranges((0, 10)), 1, 300 * Ms));
        Assert.Equal(10, loss.Pending);
        loss.OnTimer([ch], 301 * Ms);
        Assert.Equal(10, Drain(loss, 301 * Ms).Count);
    }

    [Fact]
    public void TheTimeoutBacksOff_AsTheRoundTripGrows()
    {
        var loss = Recovery(0.1);
        var ch = SentAt(4, 0);
        for (int i = 0; i < 50; i++)
        {
            loss.Rtt.OnSample(0.5); // a queue builds: the timeout follows the estimate (at least 1.5 × SRTT)
        }

        loss.OnTimer([ch], 700 * Ms);
        Assert.Equal(0, loss.Pending);
        loss.OnTimer([ch], 760 * Ms);
        Assert.Equal(4, loss.Pending);
    }

    [Fact]
    public void PiecesConfirmedOrOfAFinishedChunk_AreNotResent_EvenWhenQueued()
    {
        var loss = Recovery();
        var ch = SentAt(10, 0);
        loss.OnTimer([ch], 300 * Ms);
        loss.OnAckEntry(ch, 10, Ranges((2, 1)), 1, 301 * Ms); // all but 2 arrived meanwhile
        Assert.Equal([2], Drain(loss, 302 * Ms));

        var done = SentAt(10, 0);
        loss.OnTimer([done], 300 * Ms);
        done.Done = true;
        Assert.Empty(Drain(loss, 301 * Ms));
    }

    [Theory]
    [InlineData(11, new[] { 1, 1 })] // seen past the chunk
    [InlineData(10, new[] { 5, 1, 2, 1 })] // out of order: only the first range is taken
    [InlineData(10, new[] { 5, 0 })] // empty
    [InlineData(10, new[] { 8, 3 })] // past what was seen
    [InlineData(10, new[] { 0x7FFFFFF0, 0x20 })] // the end wraps negative in 32 bits
    public void ABadEntry_IsTakenOnlyAsFarAsItIsValid(int seen, int[] pairs)
    {
        var loss = Recovery();
        var ch = SentAt(10, 0);
        var ranges = Enumerable.Range(0, pairs.Length / 2).Select(i => (pairs[2 * i], pairs[(2 * i) + 1])).ToArray();
        loss.OnAckEntry(ch, seen, Ranges(ranges), ranges.Length, 500 * Ms);
        Assert.False(ch.AllKnown);
        Assert.True(loss.Pending <= 1);
        Assert.True(loss.KnownPieces <= 5);
    }

    /// <summary>
    /// A chunk of 200 pieces over a 100 ms path with 10% random loss each way through: the receiver
    /// acknowledges every 10 ms with the missing ranges (AckCodec's layout), the sender paces one piece
    /// a millisecond with resends first and runs the timeout every 2 ms, as UdpSender does.
    /// </summary>
    [Fact]
    public void OnALossyVirtualLink_EveryPieceArrives_WithFewDuplicates()
    {
        const int pieces = 200;
        const long oneWay = 50 * Ms;
        var rng = new Random(7);
        var loss = Recovery(0.1);
        var ch = new SendChunk(0, pieces * PieceSize, new byte[pieces * PieceSize], PieceSize);
        var arrivals = new PriorityQueue<int, long>();
        var acks = new PriorityQueue<byte[], long>();
        var got = new bool[pieces];
        int seenUpTo = 0;
        int duplicates = 0;
        int sent = 0;
        long now = 0;
        for (; now < 20_000 * Ms && got.Contains(false); now += Ms)
        {
            while (arrivals.TryPeek(out int p, out long at) && at <= now)
            {
                arrivals.Dequeue();
                duplicates += got[p] ? 1 : 0;
                got[p] = true;
                seenUpTo = Math.Max(seenUpTo, p + 1);
            }

            if (now % (10 * Ms) == 0 && seenUpTo > 0)
            {
                var missing = new List<(int, int)>();
                for (int p = 0; p < seenUpTo; p++)
                {
                    int start = p;
                    while (p < seenUpTo && !got[p])
                    {
                        p++;
                    }

                    if (p > start)
                    {
                        missing.Add((start, p - start));
                    }
                }

                var entry = new byte[AckCodec.EntrySize + (missing.Count * AckCodec.RangeSize)];
                AckCodec.WriteEntry(entry, 0, seenUpTo, missing.Count);
                Ranges([.. missing]).CopyTo(entry, AckCodec.EntrySize);
                acks.Enqueue(entry, now + oneWay);
            }

            while (acks.TryPeek(out var entry, out long at) && at <= now)
            {
                acks.Dequeue();
                var (_, seen, ranges) = AckCodec.ReadEntry(entry);
                loss.OnAckEntry(ch, seen, entry.AsSpan(AckCodec.EntrySize), ranges, now);
            }

            if (now % (2 * Ms) == 0)
            {
                loss.OnTimer([ch], now);
            }

            int piece = loss.TryNextResend(out _, out int r) ? r : ch.NextNew < pieces ? ch.NextNew++ : -1;
            if (piece >= 0)
            {
                LossRecovery.OnSent(ch, piece, now);
                sent++;
                if (rng.NextDouble() >= 0.1)
                {
                    arrivals.Enqueue(piece, now + oneWay);
                }
            }
        }

        Assert.DoesNotContain(false, got);
        Assert.True(now < 1_500 * Ms, $"took {now / Ms} ms");
        Assert.True(duplicates <= 2, $"{duplicates} pieces arrived twice");
        Assert.True(sent < pieces * 1.2, $"{sent} sends for {pieces} pieces");
        Assert.True(loss.QueuedByNack > loss.QueuedByTimeout, $"nack {loss.QueuedByNack}, timeout {loss.QueuedByTimeout}");
    }
}
