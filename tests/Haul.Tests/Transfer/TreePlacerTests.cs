using Haul.Content;
using Haul.Tests.Support;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

// In the "nodes" collection: the durability probe is static, and the node tests that set it run there too.
[Trait("Category", "Unit")]
[Collection("nodes")]
public sealed class TreePlacerTests
{
    private const UnixFileMode FileMode = (UnixFileMode)0x1A0; // 0640
    private const UnixFileMode DirMode = (UnixFileMode)0x1E8; // 0750
    private const long FileMtime = 1_600_000_000_000_000_000;
    private const long DirMtime = 1_500_000_000_000_000_000;

    // t/a is "abc" (file 0), t/e is empty (file 1), t/l links to a, t/sub is a folder.
    private static ReceivePlan Plan() => new(new Manifest(
        [
            new ManifestEntry("t", EntryKind.Directory, DirMode, DirMtime, 0, [], null),
            new ManifestEntry("t/a", EntryKind.File, FileMode, FileMtime, 3, [0], null),
            new ManifestEntry("t/e", EntryKind.File, FileMode, FileMtime, 0, [], null),
            new ManifestEntry("t/l", EntryKind.Symlink, (UnixFileMode)0x1FF, FileMtime, 0, [], "a"),
            new ManifestEntry("t/sub", EntryKind.Directory, DirMode, DirMtime, 0, [], null),
        ],
        [new ChunkInfo(Hash256.Of("abc"u8), 3)],
        [2]));

    private static (TreePlacer Placer, string Root) Open(TempDir tmp, ReceivePlan plan)
    {
        string root = tmp.Sub("dest");
        string partial = ReceiveGuard.PartialDirOf(root, plan.Manifest.Hash);
        Directory.CreateDirectory(partial);
        return (new TreePlacer(plan, new ReceiveOptions(root), partial, chunkCache: null), root);
    }

    private static DateTime Time(long unixNs) => DateTime.UnixEpoch.AddTicks(unixNs / 100);

    [Fact]
    public void ACompletedFile_GetsModeAndMtime_AndIsPlacedOnlyAfterItsBatchIsSynced()
    {
        using var tmp = new TempDir();
        var (placer, root) = Open(tmp, Plan());
        var steps = new List<string>();
        ReceiveSession.DurabilityProbe = (r, step) =>
        {
            if (r == root)
            {
                steps.Add(step);
            }
        };

        try
        {
            using (placer)
            {
                placer.Write(0, "abc!"u8.ToArray());
                Assert.Equal(1, placer.Completed);
                Assert.Equal(["complete 0"], steps);
                Assert.False(File.Exists(Path.Combine(root, "t", "a"))); // complete, not placed: its batch is not synced yet
                Assert.Equal(ModePolicy.ForFile(FileMode), File.GetUnixFileMode(placer.TempPath(0)));
                Assert.Equal(Time(FileMtime), File.GetLastWriteTimeUtc(placer.TempPath(0)));

                placer.FinishTree();
            }
        }
        finally
        {
            ReceiveSession.DurabilityProbe = null;
        }

        Assert.Equal(["complete 0", "complete 1", "sync", "place 0", "place 1", "sync"], steps);
        string a = Path.Combine(root, "t", "a");
        Assert.Equal("abc"u8.ToArray(), File.ReadAllBytes(a));
        Assert.Equal(ModePolicy.ForFile(FileMode), File.GetUnixFileMode(a));
        Assert.Equal(Time(FileMtime), File.GetLastWriteTimeUtc(a));
        Assert.Equal(0, new FileInfo(Path.Combine(root, "t", "e")).Length);
        Assert.Equal("a", new FileInfo(Path.Combine(root, "t", "l")).LinkTarget);
        foreach (var d in new[] { "t", "t/sub" })
        {
            string dir = Path.Combine(root, d);
            Assert.Equal(ModePolicy.ForDirectory(DirMode), File.GetUnixFileMode(dir));
            Assert.Equal(Time(DirMtime), Directory.GetLastWriteTimeUtc(dir));
        }

        Assert.False(Directory.Exists(Path.Combine(root, ReceiveGuard.PartialFolder))); // the temporary folder is gone
    }

    [Fact]
    public void AFileWhoseChunksWereAllHere_IsCompletedOnceOnly()
    {
        using var tmp = new TempDir();
        var (placer, root) = Open(tmp, Plan());
        using (placer)
        {
            placer.Write(0, "abc"u8.ToArray());
            placer.Complete(0); // a second completion would move an empty copy over the finished file
            Assert.Equal(1, placer.Completed);
            placer.FinishTree();
        }

        Assert.Equal("abc"u8.ToArray(), File.ReadAllBytes(Path.Combine(root, "t", "a")));
    }

    [Fact]
    public void AFile_IsNotPlacedThroughASymlinkedParent()
    {
        using var tmp = new TempDir();
        string outside = tmp.Sub("outside");
        Directory.CreateDirectory(outside);
        var (placer, root) = Open(tmp, Plan());
        Directory.CreateSymbolicLink(Path.Combine(root, "t"), outside);
        using (placer)
        {
            placer.Write(0, "abc"u8.ToArray());
            var ex = Assert.Throws<HaulException>(placer.FinishTree);
            Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public void AFolderInTheWayOfAFile_IsRefused()
    {
        using var tmp = new TempDir();
        var (placer, root) = Open(tmp, Plan());
        Directory.CreateDirectory(Path.Combine(root, "t", "a", "keep"));
        using (placer)
        {
            placer.Write(0, "abc"u8.ToArray());
            var ex = Assert.Throws<HaulException>(placer.FinishTree);
            Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        }

        Assert.True(Directory.Exists(Path.Combine(root, "t", "a", "keep")));
    }

    [Fact]
    public void AFileInPlace_GetsItsMode_ButNotThroughALinkPutThereSince()
    {
        using var tmp = new TempDir();
        string victim = tmp.Sub("victim");
        File.WriteAllText(victim, "secret");
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (placer, root) = Open(tmp, Plan());
        Directory.CreateDirectory(Path.Combine(root, "t"));
        File.CreateSymbolicLink(Path.Combine(root, "t", "a"), victim);
        using (placer)
        {
            placer.MarkInPlace(0);
            placer.FinishTree();
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(victim));
        Assert.Equal(1, placer.Completed); // only the empty file was completed
    }

    [Fact]
    public void AFileInPlace_GetsItsMode()
    {
        using var tmp = new TempDir();
        var (placer, root) = Open(tmp, Plan());
        string a = Path.Combine(root, "t", "a");
        Directory.CreateDirectory(Path.Combine(root, "t"));
        File.WriteAllText(a, "abc");
        File.SetUnixFileMode(a, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (placer)
        {
            placer.MarkInPlace(0);
            placer.FinishTree();
        }

        Assert.Equal(ModePolicy.ForFile(FileMode), File.GetUnixFileMode(a));
    }
}
