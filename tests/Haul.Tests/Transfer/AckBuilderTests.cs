using Haul.Transfer;

namespace Haul.Tests.Transfer;

/// <summary>The receiver's ACKs, built from receive state on a virtual clock (µs ticks) and read back with <see cref="AckCodec"/>.</summary>
[Trait("Category", "Unit")]
public sealed class AckBuilderTests
{
    private const int PieceSize = 1000;

    private static ChunkAssembly Partial(int chunk, int pieces, params int[] have)
    {
        var asm = new ChunkAssembly(chunk, pieces * PieceSize, new byte[pieces * PieceSize], PieceSize);
        foreach (int p in have)
        {
            asm.Mark(p);
            asm.Received++;
            asm.SeenUpTo = Math.Max(asm.SeenUpTo, p + 1);
        }

        return asm;
    }

    private static readonly Func<int, bool> Always = _ => true;

    private sealed record Entry(int Chunk, int SeenUpTo, (int Start, int Count)[] Ranges);

    private static (AckHeader Header, List<Entry> Entries, int[] Done) Read(ReadOnlySpan<byte> a)
    {
        Assert.True(a.Length <= DataFormat.MaxAckPlain);
        Assert.True(AckCodec.TryReadHeader(a, out var h));
        int pos = AckCodec.HeaderSize;
        var entries = new List<Entry>();
        for (int e = 0; e < h.Entries; e++)
        {
            var (c, seen, n) = AckCodec.ReadEntry(a[pos..]);
            pos += AckCodec.EntrySize;
            var ranges = new (int, int)[n];
            for (int r = 0; r < n; r++)
            {
                ranges[r] = AckCodec.ReadRange(a[pos..]);
                pos += AckCodec.RangeSize;
            }

            entries.Add(new Entry(c, seen, ranges));
        }

        var done = AckCodec.ReadDone(a[pos..]);
        Assert.Equal(a.Length, pos + 2 + (done.Length * AckCodec.DoneSize));
        return (h, entries, done);
    }

    [Fact]
    public void AnAck_CarriesTheCounters_TheEcho_AndEachPartialChunksMissingRanges()
    {
        var acks = new AckBuilder(epoch: 1_000, frequency: 1_000_000);
        acks.OnAuthenticated(5, 1044, data: true);
        acks.OnAuthenticated(3, 1044, data: true);
        acks.OnAuthenticated(9, 60, data: false);
        acks.Stamp(senderMicros: 70_000, now: 101_000); // receiver clock 100,000 µs: one-way "delay" 30,000
        var asm = Partial(4, 200, [0, 1, 2, 5, 6, 70, 71, 72, 130]);

        var (h, entries, done) = Read(acks.Build(103_500, [asm], Always));

        Assert.Equal(new AckHeader(70_000, 2_500, 9, 3, 2148, 102_500, 30_000, 1), h);
        Assert.Equal((4, 131), (entries[0].Chunk, entries[0].SeenUpTo));
        Assert.Equal([(3, 2), (7, 63), (73, 57)], entries[0].Ranges);
        Assert.Empty(done);
    }

    [Fact]
    public void AnAssembledChunk_IsReportedWhole_UntilItIsVerified()
    {
        var acks = new AckBuilder(0, 1_000_000);
        acks.OnAssembled(8, 734);
        bool verified = false;
        Func<int, bool> still = c => c == 8 && !verified;
        var (_, entries, _) = Read(acks.Build(1, [], still));
        Assert.Equal((8, 734), (entries.Single().Chunk, entries.Single().SeenUpTo));
        Assert.Empty(entries.Single().Ranges);
        Assert.Equal(1, acks.Assembled);

        verified = true;
        Assert.Empty(Read(acks.Build(2, [], still)).Entries);
        Assert.Equal(0, acks.Assembled);
    }

    [Fact]
    public void AJournaledChunk_RidesInFourAcks_ThenLeaves()
    {
        var acks = new AckBuilder(0, 1_000_000);
        acks.OnJournaled(11);
        acks.OnJournaled(12);
        for (int i = 0; i < AckBuilder.DoneRepeats; i++)
        {
            Assert.Equal([12, 11], Read(acks.Build(i, [], Always)).Done);
        }

        Assert.Empty(Read(acks.Build(9, [], Always)).Done);
    }

    [Fact]
    public void ManyPartialChunks_FitOneAck_AndEachIsReportedWithinAsManyAcksAsThereAreChunks()
    {
        var acks = new AckBuilder(0, 1_000_000);
        var partial = Enumerable.Range(0, 300).Select(c => Partial(c, 100, [1, 3, 5, 99])).ToList();
        var reported = new HashSet<int>();
        for (int i = 0; i < 300; i++)
        {
            var (_, entries, _) = Read(acks.Build(i, partial, Always));
            Assert.InRange(entries.Count, 30, 40); // 1,400 bytes hold about 38 entries of three ranges
            foreach (var e in entries)
            {
                reported.Add(e.Chunk);

                // An entry cut short reports only as far as its ranges reach, never more than was seen.
                int reach = e.Ranges.Length == 0 ? 0 : e.Ranges[^1].Start + e.Ranges[^1].Count;
                Assert.True(e.SeenUpTo == 100 || e.SeenUpTo == reach, $"chunk {e.Chunk}: seen {e.SeenUpTo}, ranges to {reach}");
            }
        }

        Assert.Equal(300, reported.Count);
    }

    [Fact]
    public void AnAckIsDue_EverySixtyFourthDataPacket_EachMillisecondOfData_AndEveryTenWhileChunksAreOpen()
    {
        var acks = new AckBuilder(0, 1_000_000);
        for (int i = 0; i < 63; i++)
        {
            Assert.False(acks.OnAuthenticated((ulong)i, 100, data: true));
        }

        Assert.False(acks.OnAuthenticated(63, 100, data: false)); // a probe does not count
        Assert.True(acks.OnAuthenticated(64, 100, data: true));
        acks.Build(10_000, [], Always);

        Assert.False(acks.Due(20_000, partial: 0)); // nothing new, nothing open
        Assert.False(acks.Due(19_999, partial: 1));
        Assert.True(acks.Due(20_000, partial: 1));
        acks.OnAuthenticated(65, 100, data: true);
        Assert.False(acks.Due(10_999, partial: 0));
        Assert.True(acks.Due(11_000, partial: 0));
    }

    [Fact]
    public void TheSender_ReadsFromTheAck_ExactlyThePiecesTheReceiverHas()
    {
        var rng = new Random(5);
        var have = Enumerable.Range(0, 700).Where(_ => rng.NextDouble() < 0.7).ToArray();
        var asm = Partial(0, 700, have);
        var acks = new AckBuilder(0, 1_000_000);
        var a = acks.Build(1, [asm], Always);

        var sent = new SendChunk(0, 700 * PieceSize, new byte[700 * PieceSize], PieceSize) { NextNew = 700 };
        var loss = new LossRecovery(new RttEstimator(0.01), 1_000_000);
        var (c, seen, ranges) = AckCodec.ReadEntry(a[AckCodec.HeaderSize..]);
        Assert.Equal(0, c);
        loss.OnAckEntry(sent, seen, a[(AckCodec.HeaderSize + AckCodec.EntrySize)..], ranges, 1_000_000);

        for (int p = 0; p < 700; p++)
        {
            Assert.Equal(asm.Has(p), SendChunk.Get(sent.Known, p));
        }

        Assert.Equal(have.Length, loss.KnownPieces);
        Assert.Equal(asm.SeenUpTo - have.Length, loss.Pending); // every gap below what was seen is resent
    }
}
