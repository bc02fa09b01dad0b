using FsCheck;
using FsCheck.Fluent;
using Haul.Content;

namespace Haul.Tests.Content;

public sealed class ManifestCodecTests
{
    private static Manifest Sample()
    {
        var chunks = new[] { new ChunkInfo(Hash256.Of("a"u8), 10), new ChunkInfo(Hash256.Of("b"u8), 5) };
        var entries = new List<ManifestEntry>
        {
            new("ds", EntryKind.Directory, (UnixFileMode)0x1ED, 1, 0, [], null),
            new("ds/a.bin", EntryKind.File, (UnixFileMode)0x1A4, 2, 25, [0, 1, 0], null),
            new("ds/empty", EntryKind.File, (UnixFileMode)0x1A4, 3, 0, [], null),
            new("ds/link", EntryKind.Symlink, (UnixFileMode)0x1FF, 4, 0, [], "a.bin"),
            new("ds/été", EntryKind.Directory, (UnixFileMode)0x1ED, 5, 0, [], null),
        };
        return ManifestCodec.Create(entries, chunks);
    }

    [Fact]
    public void RoundTrip_PreservesEverything()
    {
        var m = Sample();
        var d = ManifestCodec.Decode(m.Encoded);
        Assert.Equal(m.Hash, d.Hash);
        Assert.Equal(m.Chunks, d.Chunks);
        Assert.Equal(m.Entries.Select(e => (e.Path, e.Kind, e.Mode, e.MtimeUnixNs, e.Size, string.Join(",", e.Chunks), e.LinkTarget)),
                     d.Entries.Select(e => (e.Path, e.Kind, e.Mode, e.MtimeUnixNs, e.Size, string.Join(",", e.Chunks), e.LinkTarget)));
        Assert.Equal(2, d.FileCount);
        Assert.Equal(25, d.TotalBytes);
        Assert.Equal("ds", d.RootName);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("ds/../../evil")]
    [InlineData("/etc/passwd")]
    [InlineData("ds//x")]
    [InlineData("ds/./x")]
    public void Decode_RefusesPathsThatEscape(string path)
    {
        var m = ManifestCodec.Create([new(path, EntryKind.File, 0, 0, 0, [], null)], []);
        var ex = Assert.Throws<HaulException>(() => ManifestCodec.Decode(m.Encoded));
        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
    }

    [Theory]
    [InlineData("ds/l", "../../etc")]
    [InlineData("ds/l", "/etc/passwd")]
    [InlineData("ds/l", "..")]
    public void Decode_RefusesSymlinksPointingOut(string path, string target)
    {
        var m = ManifestCodec.Create([new("ds", EntryKind.Directory, 0, 0, 0, [], null), new(path, EntryKind.Symlink, 0, 0, 0, [], target)], []);
        var ex = Assert.Throws<HaulException>(() => ManifestCodec.Decode(m.Encoded));
        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
    }

    [Fact]
    public void Decode_RefusesEntriesUnderASymlinkOrFile()
    {
        var m = ManifestCodec.Create(
            [new("ds", EntryKind.Directory, 0, 0, 0, [], null), new("ds/l", EntryKind.Symlink, 0, 0, 0, [], "x"), new("ds/l/f", EntryKind.File, 0, 0, 0, [], null)], []);
        Assert.Equal(ErrorCode.UnsafePath, Assert.Throws<HaulException>(() => ManifestCodec.Decode(m.Encoded)).Code);
    }

    [Fact]
    public void Decode_RefusesAnEntryUnderAFileThatComesAfterIt()
    {
        // Not sorted: the child first, its "parent" (a file) later.
        var m = ManifestCodec.Create(
            [new ManifestEntry("a/x/y", EntryKind.File, (UnixFileMode)0x1A4, 0, 0, [], null), new ManifestEntry("a/x", EntryKind.File, (UnixFileMode)0x1A4, 0, 0, [], null)],
            []);
        var ex = Assert.Throws<HaulException>(() => ManifestCodec.Decode(m.Encoded));
        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
    }

    [Fact]
    public void Decode_OfDeepPaths_CostsNoMoreThanTheirLength()
    {
        // 4,000 entries 2,040 levels deep (a 22 KB OFFER once compressed) took 10 s of CPU when every
        // ancestor of every entry was looked up. The bound here is some 50 times what it takes now.
        string deep = string.Join('/', Enumerable.Repeat("a", 2040));
        var entries = Enumerable.Range(0, 4000).Select(i => new ManifestEntry($"{deep}/{i:x}", EntryKind.File, (UnixFileMode)0x1A4, 0, 0, [], null)).ToList();
        var m = ManifestCodec.Create(entries, []);
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

        Assert.Equal(4000, ManifestCodec.Decode(m.Encoded).Entries.Count);

        var spent = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Assert.True(spent < TimeSpan.FromSeconds(3), $"decoding took {spent.TotalSeconds:0.00} s of CPU");
    }

    [Fact]
    public void Decode_KeepsOnlyPermissionBits_NoSetuidSetgidOrSticky()
    {
        var m = ManifestCodec.Create([new("ds", EntryKind.Directory, (UnixFileMode)0x3FF, 0, 0, [], null), new("ds/f", EntryKind.File, (UnixFileMode)0xDFF, 0, 0, [], null)], []);
        var d = ManifestCodec.Decode(m.Encoded);
        Assert.All(d.Entries, e => Assert.Equal((UnixFileMode)0x1FF, e.Mode));
    }

    [Fact]
    public void Decode_RefusesSizeThatDisagreesWithChunks()
    {
        var m = ManifestCodec.Create([new("f", EntryKind.File, 0, 0, 99, [0], null)], [new ChunkInfo(default, 10)]);
        Assert.Equal(ErrorCode.ProtocolError, Assert.Throws<HaulException>(() => ManifestCodec.Decode(m.Encoded)).Code);
    }

    [Fact]
    public void Decode_OfEveryTruncation_FailsCleanly()
    {
        var enc = Sample().Encoded;
        for (int n = 0; n < enc.Length; n++)
        {
            Assert.Throws<HaulException>(() => ManifestCodec.Decode(enc[..n]));
        }
    }

    [Fact]
    public void Decode_OfRandomBytesAndMutations_OnlyEverThrowsHaulException()
    {
        var enc = Sample().Encoded;
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), Arb.From(Gen.Choose(0, 10_000)), (bytes, seed) =>
        {
            var rng = new Random(seed);
            var mutated = (byte[])enc.Clone();
            for (int i = 0; i < 1 + rng.Next(4); i++)
            {
                mutated[rng.Next(mutated.Length)] = (byte)rng.Next(256);
            }

            foreach (var input in new[] { bytes ?? [], mutated })
            {
                try
                {
                    ManifestCodec.Decode(input);
                }
                catch (HaulException)
                {
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }
}
