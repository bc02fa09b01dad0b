using FsCheck;
using FsCheck.Fluent;
using Haul.Content;

namespace Haul.Tests.Content;

[Trait("Category", "Unit")]
public sealed class FastCdcTests
{
    private static readonly FastCdc Small = new(min: 2048, avg: 8192, max: 32768);

    private static List<(int Start, int Length, Hash256 Hash)> Cut(FastCdc cdc, byte[] data)
    {
        var list = new List<(int, int, Hash256)>();
        int pos = 0;
        while (pos < data.Length)
        {
            int n = cdc.NextCut(data.AsSpan(pos), final: true);
            list.Add((pos, n, Hash256.Of(data.AsSpan(pos, n))));
            pos += n;
        }

        return list;
    }

    [Fact]
    public void Chunks_RespectMinAndMaxAndCoverTheInput()
    {
        var data = new byte[2_000_000];
        new Random(1).NextBytes(data);
        var cuts = Cut(Small, data);
        Assert.Equal(data.Length, cuts.Sum(c => c.Length));
        for (int i = 0; i < cuts.Count - 1; i++)
        {
            Assert.InRange(cuts[i].Length, Small.Min + 1, Small.Max);
        }

        // The average lands near the target for random data.
        Assert.InRange(data.Length / cuts.Count, Small.Avg / 2, Small.Avg * 2);
    }

    [Fact]
    public void NextCut_AsksForMoreDataWhenNotFinalAndNoCutFound()
    {
        var zeros = new byte[Small.Min + 10];
        Assert.Equal(-1, Small.NextCut(zeros, final: false));
        Assert.Equal(zeros.Length, Small.NextCut(zeros, final: true));
        Assert.Equal(Small.Max, Small.NextCut(new byte[Small.Max * 2], final: false));
    }

    [Fact]
    public void Boundaries_AreStableUnderAnInsertion_Property()
    {
        // Property: inserting bytes anywhere changes only chunks near the insertion. With normalized
        // chunking the cut sequence can take a few chunks to fall back into step (measured over 2,000
        // trials: 95% change one chunk, the worst changed 10, 88 KB at an 8 KiB average), so the bound
        // is on new bytes: 16 average chunks.
        var gen = Gen.Choose(0, int.MaxValue).Zip(Gen.Choose(1, 200)).Zip(Gen.Choose(0, 1_000_000));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var ((seed, insertLen), where) = t;
            var rng = new Random(seed);
            var data = new byte[400_000];
            rng.NextBytes(data);
            int at = where % data.Length;
            var ins = new byte[insertLen];
            rng.NextBytes(ins);
            var changed = data[..at].Concat(ins).Concat(data[at..]).ToArray();
            var before = Cut(Small, data).Select(c => c.Hash).ToHashSet();
            long newBytes = Cut(Small, changed).Where(c => !before.Contains(c.Hash)).Sum(c => (long)c.Length);
            return newBytes <= 16L * Small.Avg;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void OneByteInsertedAtTheStart_ReSendsLittle()
    {
        var cdc = new FastCdc();
        var data = new byte[24 * 1024 * 1024];
        new Random(3).NextBytes(data);
        var changed = new byte[data.Length + 1];
        data.CopyTo(changed, 1);
        var before = Cut(cdc, data).Select(c => c.Hash).ToHashSet();
        var after = Cut(cdc, changed);
        long newBytes = after.Where(c => !before.Contains(c.Hash)).Sum(c => (long)c.Length);
        Assert.True(newBytes <= 2 * FastCdc.DefaultMax, $"{newBytes} new bytes");
    }

    [Fact]
    public void Chunking_IsDeterministicAcrossInstances()
    {
        var data = new byte[300_000];
        new Random(9).NextBytes(data);
        Assert.Equal(Cut(Small, data), Cut(new FastCdc(2048, 8192, 32768), data));
    }

    [Fact]
    public void CutPoints_AreThoseOfTheFormat()
    {
        // Golden values: every node, every version, must cut the same bytes at the same places, or a
        // re-send after an upgrade moves data both sides already have. The input is SHA-256 in counter
        // mode (defined everywhere); the values were taken from the span-indexed loop that cut every chunk until 2026-11-29.
        var data = new byte[12 * 1024 * 1024];
        Span<byte> counter = stackalloc byte[8];
        for (int i = 0; i < data.Length / 32; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(counter, i);
            System.Security.Cryptography.SHA256.HashData(counter, data.AsSpan(i * 32, 32));
        }

        var big = Cut(new FastCdc(), data).Select(c => c.Length).ToArray();
        var small = Cut(Small, data.AsSpan(0, 1 << 20).ToArray()).Select(c => c.Length).ToArray();
        string Digest(int[] lengths) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(lengths.SelectMany(BitConverter.GetBytes).ToArray()))[..16];
        Assert.Equal([573734, 1174624, 979221, 564045, 1992339, 1186437, 1085455, 1495266, 814264, 615365, 1111496, 990666], big);
        Assert.Equal((116, "D393B154B5A542ED"), (small.Length, Digest(small)));
    }

    [Fact]
    public void Constructor_RejectsBadBounds()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastCdc(10, 1000, 5000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastCdc(2000, 1024, 5000));
    }
}
