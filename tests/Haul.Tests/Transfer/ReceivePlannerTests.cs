using Haul.Content;
using Haul.Security;
using Haul.State;
using Haul.Tests.Support;
using Haul.Transfer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class ReceivePlannerTests
{
    private const UnixFileMode Mode = (UnixFileMode)0x1A4;
    private const long Mtime = 1_600_000_000_000_000_000;
    private static readonly byte[] Alpha = "alpha-bytes"u8.ToArray();
    private static readonly byte[] Bravo = "bravo-bytes!"u8.ToArray();

    // t/a is one chunk (Alpha, file 0), t/b another (Bravo, file 1): each smaller than the chunker's minimum.
    private static Manifest TwoFiles() => new(
        [
            new ManifestEntry("t", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null),
            new ManifestEntry("t/a", EntryKind.File, Mode, Mtime, Alpha.Length, [0], null),
            new ManifestEntry("t/b", EntryKind.File, Mode, Mtime, Bravo.Length, [1], null),
        ],
        [new ChunkInfo(Hash256.Of(Alpha), Alpha.Length), new ChunkInfo(Hash256.Of(Bravo), Bravo.Length)],
        [3]);

    private sealed class Setup : IDisposable
    {
        private readonly TempDir _tmp = new();

        public Setup(Manifest manifest, bool reuseUnnamed = true)
        {
            Root = _tmp.Sub("dest");
            Directory.CreateDirectory(Root);
            Store = new NodeStore(_tmp.Sub("haul.db"));
            Plan = new ReceivePlan(manifest);
            Options = new ReceiveOptions(Root) { ReuseUnnamed = reuseUnnamed };
            string partial = ReceiveGuard.PartialDirOf(Root, manifest.Hash);
            Directory.CreateDirectory(partial);
            Placer = new TreePlacer(Plan, Options, partial, chunkCache: null);
            TransferId = Store.BeginTransfer("in", manifest.Hash.ToHex(), "peer", manifest.RootName, manifest.FileCount, manifest.TotalBytes);
        }

        public string Root { get; }

        public NodeStore Store { get; }

        public ReceivePlan Plan { get; }

        public ReceiveOptions Options { get; }

        public TreePlacer Placer { get; }

        public long TransferId { get; }

        public string Outside(string name) => _tmp.Sub(name);

        public ReceivePlanning Run() =>
            new ReceivePlanner(Plan, Options, Store, null, NullLogger.Instance).Plan(TransferId, NodeId.FromCertificate("peer"u8), "peer", Placer);

        public void Put(string rel, byte[] content, long mtimeNs = Mtime)
        {
            string path = Path.Combine(Root, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
            File.SetLastWriteTimeUtc(path, DateTime.UnixEpoch.AddTicks(mtimeNs / 100));
        }

        public void Dispose()
        {
            Placer.Dispose();
            Store.Dispose();
            _tmp.Dispose();
        }
    }

    [Fact]
    public void AFreshDestination_NeedsEveryChunk()
    {
        using var s = new Setup(TwoFiles());
        var planning = s.Run();

        Assert.Equal(ChunkState.Needed, planning.States[0]);
        Assert.Equal(ChunkState.Needed, planning.States[1]);
        Assert.Equal(0, planning.FilesInPlace);
        Assert.Equal(0, planning.ReusedBytes);
        Assert.Equal([(0, 2)], planning.States.CountNeeded(s.Plan.Manifest.Chunks).Runs);
    }

    [Fact]
    public void AFileInPlace_WithItsSizeMtimeAndChunks_IsNotNeeded()
    {
        using var s = new Setup(TwoFiles());
        s.Put("t/a", Alpha);
        var planning = s.Run();

        Assert.Equal(ChunkState.NotNeeded, planning.States[0]);
        Assert.Equal(ChunkState.Needed, planning.States[1]);
        Assert.Equal(1, planning.FilesInPlace);
        Assert.True(s.Placer.IsInPlace(0));
        Assert.Equal(0, s.Plan.FileRemaining[0]);
    }

    [Fact]
    public void AFileWithTheRightSizeAndMtimeButOtherBytes_IsNeeded()
    {
        using var s = new Setup(TwoFiles());
        s.Put("t/a", "ALPHA-BYTES"u8.ToArray()); // the quick check passes; the chunks do not
        var planning = s.Run();

        Assert.Equal(ChunkState.Needed, planning.States[0]);
        Assert.Equal(0, planning.FilesInPlace);
        Assert.False(s.Placer.IsInPlace(0));
    }

    [Fact]
    public void AFileBehindASymlinkedParent_IsNotInPlace_NorReadForReuse()
    {
        using var s = new Setup(TwoFiles());
        string outside = s.Outside("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllBytes(Path.Combine(outside, "a"), Alpha);
        File.SetLastWriteTimeUtc(Path.Combine(outside, "a"), DateTime.UnixEpoch.AddTicks(Mtime / 100));
        Directory.CreateSymbolicLink(Path.Combine(s.Root, "t"), outside);
        var planning = s.Run();

        Assert.Equal(ChunkState.Needed, planning.States[0]);
        Assert.Equal(0, planning.FilesInPlace);
        Assert.Equal(0, planning.ReusedBytes);
    }

    [Fact]
    public void AnOldCopyUnderAnotherName_IsReused_JournaledAndItsFileCompleted()
    {
        using var s = new Setup(TwoFiles());
        s.Put("t/old", Alpha, mtimeNs: 0); // renamed since: the manifest no longer names it
        var planning = s.Run();

        Assert.Equal(ChunkState.Done, planning.States[0]);
        Assert.Equal(ChunkState.Needed, planning.States[1]);
        Assert.Equal(Alpha.Length, planning.ReusedBytes);
        Assert.Equal(0, planning.FilesInPlace);
        Assert.Equal(1, s.Placer.Completed);
        Assert.Contains(0, s.Store.DoneChunks(s.TransferId));
        Assert.Equal(Alpha, File.ReadAllBytes(s.Placer.TempPath(0)));
        Assert.False(File.Exists(Path.Combine(s.Root, "t", "a"))); // completed, placed only with its batch
    }

    [Fact]
    public void AnOldCopyUnderAnotherName_IsNotReadWhenUnnamedFilesAreNotReused()
    {
        using var s = new Setup(TwoFiles(), reuseUnnamed: false); // a sync: only the files it names or is about to delete
        s.Put("t/old", Alpha, mtimeNs: 0);
        var planning = s.Run();

        Assert.Equal(ChunkState.Needed, planning.States[0]);
        Assert.Equal(0, planning.ReusedBytes);
    }

    [Fact]
    public void AJournaledChunk_IsReverifiedInItsTemporaryCopy()
    {
        using var s = new Setup(TwoFiles());
        s.Store.MarkChunksDone(s.TransferId, [0, 1]);
        File.WriteAllBytes(s.Placer.TempPath(0), Alpha);
        File.WriteAllBytes(s.Placer.TempPath(1), new byte[Bravo.Length]); // journaled, but its bytes did not survive
        var planning = s.Run();

        Assert.Equal(ChunkState.Done, planning.States[0]);
        Assert.Equal(ChunkState.Needed, planning.States[1]);
        Assert.Equal(Alpha.Length, planning.ReusedBytes);
        Assert.Equal(1, s.Placer.Completed);
    }

    [Fact]
    public void AManifestThatWouldNotFit_IsRefusedBeforeAnythingIsWritten()
    {
        // One chunk of 1 GiB named a million times: a petabyte to write from a manifest of a few megabytes.
        var refs = new int[1 << 20];
        var manifest = new Manifest(
            [
                new ManifestEntry("t", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null),
                new ManifestEntry("t/big", EntryKind.File, Mode, Mtime, (1L << 30) * refs.Length, refs, null),
            ],
            [new ChunkInfo(Hash256.Of("x"u8), 1 << 30)],
            [4]);
        using var s = new Setup(manifest);
        var ex = Assert.Throws<HaulException>(() => s.Run());

        Assert.Equal(ErrorCode.DiskFull, ex.Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(ReceiveGuard.PartialDirOf(s.Root, manifest.Hash)));
    }
}
