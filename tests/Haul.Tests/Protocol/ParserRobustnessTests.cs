using System.Diagnostics;
using Haul.Content;
using Haul.Fuzz;
using Haul.Protocol;
using Haul.Sync;
using Haul.Transfer;

namespace Haul.Tests.Protocol;

/// <summary>
/// Every fuzz target (fuzz/Haul.Fuzz/Targets.cs) in-process: each seed and past finding under
/// fuzz/corpus, then a few thousand mutations of them and random inputs. A target lets through only
/// the exceptions its parser promises, so anything else fails here; time and allocation per target
/// are bounded. The long coverage-guided runs are fuzz/run.sh's.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ParserRobustnessTests
{
    public static TheoryData<string> TargetNames() => [.. Targets.All.Keys];

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void EveryCorpusFile_IsParsedOrRefused(string target)
    {
        var files = Directory.GetFiles(Path.Combine(CorpusRoot(), target));
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            Targets.All[target](File.ReadAllBytes(file));
        }
    }

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void MutatedAndRandomInputs_AreParsedOrRefused_InBoundedTimeAndMemory(string target)
    {
        var run = Targets.All[target];
        var seeds = Directory.GetFiles(Path.Combine(CorpusRoot(), target)).Select(File.ReadAllBytes).ToArray();
        var rng = new Random(target.GetHashCode(StringComparison.Ordinal) ^ 18);
        var sw = Stopwatch.StartNew();
        long worst = 0;
        for (int i = 0; i < 3000; i++)
        {
            var input = i % 5 == 0 ? Random(rng) : Mutate(seeds[rng.Next(seeds.Length)], rng);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                run(input);
            }
            catch (Exception ex)
            {
                Assert.Fail($"{target} threw {ex.GetType().Name} for {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 256)))}: {ex}");
            }

            worst = Math.Max(worst, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(worst < 48L << 20, $"{target}: one input allocated {worst:N0} bytes");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"{target}: 3,000 inputs took {sw.Elapsed}");
    }

    [Fact]
    public void AManifestClaimingMoreEntriesThanTheLimit_IsRefusedBeforeItsListsAreAllocated()
    {
        int claimed = ManifestCodec.MaxEntries + 1;
        var blob = new WireWriter(16 + (claimed * 15)).U32(ManifestCodec.Magic).U16(ManifestCodec.Version).U16(0).U32(0).U32((uint)claimed);
        blob.Bytes(new byte[claimed * 15]);
        var bytes = blob.WrittenSpan.ToArray();

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<HaulException>(() => ManifestCodec.Decode(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ErrorCode.ProtocolError, ex.Code);
        Assert.Contains($"refused a manifest of {claimed} entries", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated");
    }

    [Theory]
    [InlineData(0xFFFFFFFFu, 0u)]
    [InlineData(1u, 0xFFFFFFFFu)]
    [InlineData(0u, 0x7FFFFFFFu)]
    public void AManifestWithCountsPastItsBytes_IsRefused(uint chunks, uint entries)
    {
        var bytes = new WireWriter().U32(ManifestCodec.Magic).U16(ManifestCodec.Version).U16(0).U32(chunks).Bytes(new byte[36]).U32(entries).Bytes(new byte[64]).WrittenSpan.ToArray();
        Assert.Equal(ErrorCode.ProtocolError, Assert.Throws<HaulException>(() => ManifestCodec.Decode(bytes)).Code);
    }

    [Fact]
    public void DecodeManifest_StopsABrotliStreamAtItsStatedLength_AndTakesOneThatEndsThere()
    {
        var manifest = new byte[300_000];
        new Random(3).NextBytes(manifest.AsSpan(0, 1000));
        var wire = new byte[BrotliMax(manifest.Length)];
        Assert.True(System.IO.Compression.BrotliEncoder.TryCompress(manifest, wire, out int n, 5, 22));
        wire = wire[..n];

        Assert.Equal(manifest, Messages.DecodeManifest(Messages.ManifestCoding.Brotli, wire, manifest.Length));
        var longer = Assert.Throws<HaulException>(() => Messages.DecodeManifest(Messages.ManifestCoding.Brotli, wire, manifest.Length - 1));
        Assert.Equal(ErrorCode.CorruptData, longer.Code);
        Assert.Equal(ErrorCode.CorruptData, Assert.Throws<HaulException>(() => Messages.DecodeManifest(Messages.ManifestCoding.Brotli, wire, manifest.Length + 1)).Code);
        Assert.Equal(ErrorCode.CorruptData, Assert.Throws<HaulException>(() => Messages.DecodeManifest(Messages.ManifestCoding.Brotli, wire[..^1], manifest.Length)).Code);
        Assert.Equal(ErrorCode.ProtocolError, Assert.Throws<HaulException>(() => Messages.DecodeManifest(Messages.ManifestCoding.Brotli, wire, ManifestCodec.MaxEncodedLength + 1L)).Code);
    }

    [Theory]
    [InlineData(0x7FFFFFF0, 0x20, 0, 100, false)] // the end wraps negative in 32 bits
    [InlineData(0, 0x7FFFFFFF, 0, 100, false)]
    [InlineData(-5, 3, 0, 100, false)]
    [InlineData(3, 0, 0, 100, false)]
    [InlineData(2, 3, 3, 100, false)]
    [InlineData(3, 97, 3, 100, true)]
    [InlineData(3, 98, 3, 100, false)]
    public void AnAckRange_FitsOnlyWithinThePiecesSeen(int start, int count, int cursor, int seen, bool fits) =>
        Assert.Equal(fits, LossRecovery.AckRangeFits(start, count, cursor, seen));

    [Theory]
    [InlineData("22222222222222222")] // found by the s3-key fuzzer: seconds * 10^7 overflowed
    [InlineData("-99999999999999")]
    [InlineData("253402300800")]
    public void AnS3MtimeNoFileCanHave_IsIgnored(string mtime) => Assert.Null(S3End.ParseMtime(mtime));

    [Fact]
    public void AnS3MtimeAtTheEdgesOfTime_StillParses()
    {
        Assert.Equal(DateTime.UnixEpoch.Ticks + (253402300798L * TimeSpan.TicksPerSecond), S3End.ParseMtime("253402300798"));
        Assert.Equal(DateTime.UnixEpoch.Ticks - (62135596800L * TimeSpan.TicksPerSecond), S3End.ParseMtime("-62135596800"));
    }

    private static int BrotliMax(int n) => System.IO.Compression.BrotliEncoder.GetMaxCompressedLength(n);

    private static byte[] Random(Random rng)
    {
        var b = new byte[rng.Next(0, 512)];
        rng.NextBytes(b);
        return b;
    }

    /// <summary>AFL-style havoc: flips, interesting values (lengths and counts near the limits), cuts, inserts and splices.</summary>
    private static byte[] Mutate(byte[] seed, Random rng)
    {
        var b = new List<byte>(seed);
        int steps = 1 + rng.Next(8);
        for (int s = 0; s < steps; s++)
        {
            int at = b.Count == 0 ? 0 : rng.Next(b.Count);
            switch (rng.Next(7))
            {
                case 0 when b.Count > 0:
                    b[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when b.Count > 0:
                    b[at] = (byte)rng.Next(256);
                    break;
                case 2 when b.Count >= 4:
                    at = Math.Min(at, b.Count - 4);
                    uint v = rng.Next(6) switch { 0 => 0, 1 => 0xFFFFFFFF, 2 => 0x7FFFFFFF, 3 => 0x80000000, 4 => (uint)rng.Next(1 << 16), _ => (uint)rng.Next() };
                    b[at] = (byte)(v >> 24);
                    b[at + 1] = (byte)(v >> 16);
                    b[at + 2] = (byte)(v >> 8);
                    b[at + 3] = (byte)v;
                    break;
                case 3 when b.Count > 0:
                    b.RemoveRange(at, Math.Min(b.Count - at, 1 + rng.Next(16)));
                    break;
                case 4:
                    var extra = new byte[1 + rng.Next(16)];
                    rng.NextBytes(extra);
                    b.InsertRange(at, extra);
                    break;
                case 5 when b.Count > 0:
                    b.RemoveRange(at, b.Count - at);
                    break;
                default:
                    if (b.Count > 1)
                    {
                        int from = rng.Next(b.Count);
                        int len = Math.Min(b.Count - from, 1 + rng.Next(32));
                        b.InsertRange(at, b.GetRange(from, len));
                    }

                    break;
            }
        }

        return [.. b];
    }

    private static string CorpusRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string corpus = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(corpus))
            {
                return corpus;
            }
        }

        throw new DirectoryNotFoundException("fuzz/corpus not found above " + AppContext.BaseDirectory);
    }
}
