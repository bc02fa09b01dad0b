using Haul.Content;
using Haul.Tests.Support;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

/// <summary>The sender's progress counts file bytes in place: a chunk stored once but used in two files is worth both.</summary>
[Trait("Category", "Unit")]
public sealed class SendProgressTests
{
    [Fact]
    public void Plan_CountsWhatTheReceiverHolds_AsDone_AndConfirmationsAddEachChunkInEveryPlace()
    {
        using var tmp = new TempDir();
        var m = TwinTree(tmp);
        int twin = m.Entries.First(e => e.Kind == EntryKind.File && e.Chunks.Length > 0).Chunks[0];
        long places = m.Entries.Count(e => e.Kind == EntryKind.File && e.Chunks.Contains(twin));
        Assert.Equal(2, places);
        var progress = new SendProgress(m);

        progress.Plan(new NeedList([twin], ReusedBytes: 0, FilesAlreadyDone: 1));

        long len = m.Chunks[twin].Length;
        Assert.Equal(len, progress.ChunkBytes);
        Assert.Equal(m.TotalBytes - (2 * len), progress.BytesDone);
        Assert.Equal(1, progress.FilesDone);

        progress.ChunksDone([twin], filesDone: 3);

        Assert.Equal(m.TotalBytes, progress.BytesDone);
        Assert.Equal(3, progress.FilesDone);
    }

    [Fact]
    public void Snapshot_CarriesTheModeTheDataPlaneSet()
    {
        using var tmp = new TempDir();
        var progress = new SendProgress(TwinTree(tmp)) { Mode = "udp" };
        progress.Plan(new NeedList([], 0, 0));

        progress.Mode = "tcp";
        var s = progress.Snapshot(TransferPhase.Notice, 0, "falling back");

        Assert.Equal((TransferPhase.Notice, "tcp", "falling back"), (s.Phase, s.Mode, s.Notice));
        Assert.Equal(s.BytesTotal, s.BytesDone);
    }

    [Fact]
    public void Rate_StartsFromTheFirstTick_ThenSmooths()
    {
        double first = SendProgress.NextRate(0, 1000, 1.0);
        double next = SendProgress.NextRate(first, 2000, 1.0);

        Assert.Equal(1000, first, 6);
        Assert.Equal((0.7 * 1000) + (0.3 * 2000), next, 6);
        Assert.True(double.IsFinite(SendProgress.NextRate(0, 1000, 0)));
    }

    /// <summary>Two files with the same bytes (one chunk stored once) and one other.</summary>
    private static Manifest TwinTree(TempDir tmp)
    {
        string root = tmp.Sub("twins");
        Trees.WriteRandom(Path.Combine(root, "a.bin"), 50_000, 1);
        File.Copy(Path.Combine(root, "a.bin"), Path.Combine(root, "b.bin"));
        Trees.WriteRandom(Path.Combine(root, "c.bin"), 30_000, 2);
        return TreeScanner.Scan(root).Manifest;
    }
}
