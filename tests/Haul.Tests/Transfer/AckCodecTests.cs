using Haul.Transfer;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class AckCodecTests
{
    [Fact]
    public void AnAck_RoundTrips_HeaderEntriesRangesAndDoneChunks()
    {
        var buf = new byte[DataFormat.MaxAckPlain];
        var h = new AckHeader(0xFEDCBA98, 1234, ulong.MaxValue - 1, 1L << 40, (1UL << 50) + 3, 0x7FFF_FFFF, -42, 0);
        AckCodec.WriteHeader(buf, h);
        int pos = AckCodec.HeaderSize;
        AckCodec.WriteEntry(buf.AsSpan(pos), 7, 100, 0);
        int entry = pos;
        pos += AckCodec.EntrySize;
        AckCodec.WriteRange(buf.AsSpan(pos), 3, 2);
        pos += AckCodec.RangeSize;
        AckCodec.WriteRange(buf.AsSpan(pos), 50, 9);
        pos += AckCodec.RangeSize;
        AckCodec.FinishEntry(buf.AsSpan(entry), 80, 2);
        AckCodec.WriteEntry(buf.AsSpan(pos), int.MaxValue, 12, 0);
        pos += AckCodec.EntrySize;
        AckCodec.WriteEntryCount(buf, 2);
        AckCodec.WriteDoneCount(buf.AsSpan(pos), 3);
        foreach (int c in new[] { 1, 0, 999_999 })
        {
            pos += c == 1 ? 2 : 0;
            AckCodec.WriteDone(buf.AsSpan(pos), c);
            pos += AckCodec.DoneSize;
        }

        var a = buf.AsSpan(0, pos);
        Assert.True(AckCodec.TryReadHeader(a, out var back));
        Assert.Equal(h with { Entries = 2 }, back);
        int at = AckCodec.HeaderSize;
        Assert.Equal((7, 80, 2), AckCodec.ReadEntry(a[at..]));
        at += AckCodec.EntrySize;
        Assert.Equal((3, 2), AckCodec.ReadRange(a[at..]));
        at += AckCodec.RangeSize;
        Assert.Equal((50, 9), AckCodec.ReadRange(a[at..]));
        at += AckCodec.RangeSize;
        Assert.Equal((int.MaxValue, 12, 0), AckCodec.ReadEntry(a[at..]));
        at += AckCodec.EntrySize;
        Assert.Equal([1, 0, 999_999], AckCodec.ReadDone(a[at..]));
    }

    [Fact]
    public void ShortOrRandomBytes_AreRefusedOrReadWithinBounds()
    {
        Assert.False(AckCodec.TryReadHeader(new byte[AckCodec.HeaderSize - 1], out _));
        Assert.Empty(AckCodec.ReadDone([]));
        Assert.Empty(AckCodec.ReadDone([0]));
        Assert.Empty(AckCodec.ReadDone([0, 5, 0, 0, 0, 1])); // claims 5, holds 1
        var rnd = new Random(21);
        for (int i = 0; i < 5_000; i++)
        {
            var b = new byte[rnd.Next(0, 200)];
            rnd.NextBytes(b);
            if (AckCodec.TryReadHeader(b, out _) && b.Length >= AckCodec.HeaderSize + AckCodec.EntrySize)
            {
                _ = AckCodec.ReadEntry(b.AsSpan(AckCodec.HeaderSize));
            }

            var done = AckCodec.ReadDone(b);
            Assert.True(done.Length == 0 || 2 + (done.Length * AckCodec.DoneSize) <= b.Length);
        }
    }
}
