using System.Text.Json;
using Haul.Content;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.Sync;

/// <summary>copy, sync and check between real folders through the real CLI binary.</summary>
[Collection("nodes")]
public sealed class LocalSyncTests
{
    private static async Task<(int Code, string Out, string Err)> Run(TempDir tmp, params string[] args) =>
        await HaulProcess.RunAsync(["--home", tmp.Sub("home"), .. args]);

    private static JsonElement Summary(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).Single(j => j.GetProperty("type").GetString() == "summary");

    [Fact]
    public async Task Sync_MirrorsTheTree_ThenDoesNothingOnASecondRun()
    {
        using var tmp = new TempDir();
        string src = Trees.Mixed(tmp.Path, "src", files: 60);
        string dst = tmp.Sub("dst");
        var first = await Run(tmp, "sync", src, dst, "--json");
        Assert.Equal(0, first.Code);

        // Regular files, as rclone syncs them (symlinks and empty folders are not carried).
        var files = Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories).Where(f => !new FileInfo(f).Attributes.HasFlag(FileAttributes.ReparsePoint)).ToList();
        Assert.Equal(files.Count, Directory.EnumerateFiles(dst, "*", SearchOption.AllDirectories).Count());
        foreach (var f in files)
        {
            string twin = Path.Combine(dst, Path.GetRelativePath(src, f));
            Assert.True(Trees.SameBytes(f, twin), twin);
            Assert.Equal(File.GetLastWriteTimeUtc(f), File.GetLastWriteTimeUtc(twin));
        }

        var second = await Run(tmp, "sync", src, dst, "--json");
        Assert.Equal(0, second.Code);
        Assert.Equal(0, Summary(second.Out).GetProperty("copied").GetInt64());
        Assert.Equal(Summary(first.Out).GetProperty("copied").GetInt64(), Summary(second.Out).GetProperty("unchanged").GetInt64());
    }

    [Fact]
    public async Task Copy_NeverDeletes_SyncDeletes_AndBackupDirKeepsWhatWouldBeLost()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst"), bak = tmp.Sub("bak");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 10_000, 1);
        Trees.WriteRandom(Path.Combine(src, "sub", "b.bin"), 20_000, 2);
        Assert.Equal(0, (await Run(tmp, "sync", src, dst)).Code);
        Trees.WriteRandom(Path.Combine(dst, "extra.bin"), 5_000, 3);
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 10_001, 4);
        string oldA = Trees.Sha(Path.Combine(dst, "a.bin"));

        Assert.Equal(0, (await Run(tmp, "copy", src, dst)).Code);
        Assert.True(File.Exists(Path.Combine(dst, "extra.bin")), "copy must never delete");
        Assert.True(Trees.SameBytes(Path.Combine(src, "a.bin"), Path.Combine(dst, "a.bin")));

        Trees.WriteRandom(Path.Combine(src, "a.bin"), 10_002, 5);
        string beforeSync = Trees.Sha(Path.Combine(dst, "a.bin"));
        var r = await Run(tmp, "sync", src, dst, "--backup-dir", bak);
        Assert.Equal(0, r.Code);
        Assert.False(File.Exists(Path.Combine(dst, "extra.bin")));
        Assert.True(File.Exists(Path.Combine(bak, "extra.bin")), "the deleted file is kept in --backup-dir");
        Assert.Equal(beforeSync, Trees.Sha(Path.Combine(bak, "a.bin")));
        Assert.NotEqual(oldA, beforeSync);
        Trees.AssertSame(src, dst);
        Assert.Equal(0, (await Run(tmp, "check", src, dst)).Code);
    }

    [Fact]
    public async Task DryRun_PrintsThePlan_AndChangesNothing()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "new.bin"), 1000, 1);
        Trees.WriteRandom(Path.Combine(src, "changed.bin"), 1000, 2);
        Trees.WriteRandom(Path.Combine(dst, "changed.bin"), 999, 3);
        Trees.WriteRandom(Path.Combine(dst, "gone.bin"), 1000, 4);
        var r = await Run(tmp, "sync", src, dst, "--dry-run");
        Assert.Equal(0, r.Code);
        Assert.Equal(["update changed.bin (1.0 KB)", "delete gone.bin (1.0 KB)", "copy new.bin (1.0 KB)"], r.Out.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(dst, "new.bin")));
        Assert.True(File.Exists(Path.Combine(dst, "gone.bin")));
        Assert.Equal(999, new FileInfo(Path.Combine(dst, "changed.bin")).Length);
    }

    [Fact]
    public async Task DryRunSummary_CountsTimeOnlyDifferences()
    {
        // The plan listed "touch b" but the summary said "would copy 0, would delete 0, 1 unchanged" (issue 20).
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 1000, 1);
        Assert.Equal(0, (await Run(tmp, "sync", src, dst)).Code);
        File.SetLastWriteTimeUtc(Path.Combine(src, "b.bin"), new DateTime(2022, 2, 2, 0, 0, 0, DateTimeKind.Utc));
        var r = await Run(tmp, "sync", src, dst, "--dry-run");
        Assert.Equal(0, r.Code);
        Assert.Contains("would set times on 1", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameContentNewTime_OnlySetsTheTime_AndChecksumCatchesSameSizeEdits()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "w.bin"), 50_000, 1);
        Assert.Equal(0, (await Run(tmp, "sync", src, dst)).Code);
        long inode = Native.Stat(Path.Combine(dst, "w.bin")).Inode;

        File.SetLastWriteTimeUtc(Path.Combine(src, "w.bin"), new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc));
        var touch = await Run(tmp, "sync", src, dst, "--json");
        Assert.Equal(1, Summary(touch.Out).GetProperty("touched").GetInt64());
        Assert.Equal(0, Summary(touch.Out).GetProperty("copied").GetInt64());
        Assert.Equal(inode, Native.Stat(Path.Combine(dst, "w.bin")).Inode);
        Assert.Equal(new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(dst, "w.bin")));

        // Same size, same mtime, different bytes: only --checksum sees it.
        var t = File.GetLastWriteTimeUtc(Path.Combine(dst, "w.bin"));
        using (var fs = new FileStream(Path.Combine(dst, "w.bin"), FileMode.Open))
        {
            fs.WriteByte(0x42);
        }

        File.SetLastWriteTimeUtc(Path.Combine(dst, "w.bin"), t);
        Assert.Equal(0, Summary((await Run(tmp, "sync", src, dst, "--json")).Out).GetProperty("copied").GetInt64());
        Assert.Equal(1, Summary((await Run(tmp, "sync", src, dst, "--json", "--checksum")).Out).GetProperty("copied").GetInt64());
        Assert.True(Trees.SameBytes(Path.Combine(src, "w.bin"), Path.Combine(dst, "w.bin")));
    }

    [Fact]
    public async Task Filters_LimitWhatIsCopiedAndWhatIsDeleted()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "keep.parquet"), 100, 1);
        Trees.WriteRandom(Path.Combine(src, "skip.tmp"), 100, 2);
        Trees.WriteRandom(Path.Combine(src, "cache", "x.parquet"), 100, 3);
        Trees.WriteRandom(Path.Combine(dst, "local.tmp"), 100, 4);
        File.WriteAllLines(tmp.Sub("rules"), ["# comment", "cache/", string.Empty]);
        Assert.Equal(0, (await Run(tmp, "sync", src, dst, "--exclude", "*.tmp", "--exclude-from", tmp.Sub("rules"))).Code);
        Assert.True(File.Exists(Path.Combine(dst, "keep.parquet")));
        Assert.False(File.Exists(Path.Combine(dst, "skip.tmp")));
        Assert.False(Directory.Exists(Path.Combine(dst, "cache")));
        Assert.True(File.Exists(Path.Combine(dst, "local.tmp")), "an excluded file on the destination is not deleted");
    }

    [Fact]
    public async Task Check_ReportsEveryDifference_WithItsOwnExitCode()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "same.bin"), 1000, 1);
        Trees.WriteRandom(Path.Combine(src, "only-src.bin"), 1000, 2);
        Trees.WriteRandom(Path.Combine(src, "differs.bin"), 1000, 3);
        Directory.CreateDirectory(dst);
        File.Copy(Path.Combine(src, "same.bin"), Path.Combine(dst, "same.bin"));
        Trees.WriteRandom(Path.Combine(dst, "differs.bin"), 1000, 4);
        Trees.WriteRandom(Path.Combine(dst, "only-dst.bin"), 1000, 5);
        var r = await Run(tmp, "check", src, dst);
        Assert.Equal((int)ErrorCode.Differences, r.Code);
        Assert.Equal(["differ differs.bin (1.0 KB)", "missing-on-source only-dst.bin (1.0 KB)", "missing-on-dest only-src.bin (1.0 KB)"], r.Out.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("inside")]
    [InlineData("filter")]
    [InlineData("remote")]
    [InlineData("missing")]
    [InlineData("bwlimit")]
    public async Task BadInput_OneLineError_DistinctCode_NothingTouched(string kind)
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 1000, 1);
        Trees.WriteRandom(Path.Combine(dst, "keep.bin"), 1000, 2);
        var (args, code, text) = kind switch
        {
            "inside" => (new[] { "sync", src, Path.Combine(src, "mirror") }, ErrorCode.Usage, "overlap"),
            "filter" => (["sync", src, dst, "--exclude", "{a,b"], ErrorCode.Usage, "'{' without a closing '}'"),
            "remote" => (["sync", src, "lab-z:models/prod"], ErrorCode.UnknownPeer, "unknown remote 'lab-z:'"),
            "missing" => (["sync", tmp.Sub("nope"), dst], ErrorCode.PathNotFound, "source not found"),
            _ => (["sync", src, dst, "--bwlimit", "fast"], ErrorCode.Usage, "--bwlimit 'fast'"),
        };
        var r = await Run(tmp, args);
        Assert.Equal((int)code, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains(text, r.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dst, "keep.bin")));
        Assert.False(Directory.Exists(Path.Combine(src, "mirror")));
    }

    [Fact]
    public async Task FailedCopies_MeanNoDeletions()
    {
        using var tmp = new TempDir();
        var src = new LocalEnd(tmp.Sub("src"), null);
        Trees.WriteRandom(Path.Combine(src.Root, "a.bin"), 100, 1);
        Trees.WriteRandom(Path.Combine(src.Root, "b.bin"), 100, 2);
        var dst = new FailingEnd(new LocalEnd(tmp.Sub("dst"), null), failOn: "b.bin");
        Trees.WriteRandom(Path.Combine(tmp.Sub("dst"), "extra.bin"), 100, 3);
        using var log = new SyncLog(null, json: false, quiet: true);
        var stats = await new SyncRunner(src, dst, new SyncOptions { Mode = SyncMode.Sync }, log).RunAsync();
        Assert.Equal(1, stats.Errors);
        Assert.Equal(1, stats.SkippedDeletes);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("dst"), "extra.bin")));
        Assert.True(File.Exists(Path.Combine(tmp.Sub("dst"), "a.bin")));
        Assert.False(File.Exists(Path.Combine(tmp.Sub("dst"), "b.bin")));
        Assert.Empty(Directory.GetFiles(tmp.Sub("dst"), ".haul-tmp-*"));
    }

    [Fact]
    public async Task MaxDelete_RefusesTheWholeDeletion()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 100, 1);
        for (int i = 0; i < 5; i++)
        {
            Trees.WriteRandom(Path.Combine(dst, $"old{i}.bin"), 100, 10 + i);
        }

        var r = await Run(tmp, "sync", src, dst, "--max-delete", "3");
        Assert.Equal((int)ErrorCode.SyncIncomplete, r.Code);
        Assert.Contains("more than --max-delete 3", r.Err, StringComparison.Ordinal);
        Assert.Equal(6, Directory.GetFiles(dst).Length);
    }

    [Fact]
    public async Task BandwidthLimit_SlowsTheCopy_AndJsonLogRecordsEachFile()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 1_500_000, 1);
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 500_000, 2);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = await Run(tmp, "copy", src, dst, "--bwlimit", "1M", "--log-file", tmp.Sub("log.jsonl"), "--json-log");
        Assert.Equal(0, r.Code);
        // 2 MB at 1 MiB/s, less the quarter-second burst allowance: well over a second.
        Assert.True(sw.Elapsed.TotalSeconds >= 1.4, $"took {sw.Elapsed.TotalSeconds:0.00} s");
        var lines = File.ReadAllLines(tmp.Sub("log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["a.bin", "b.bin"], lines.Where(l => l.GetProperty("action").GetString() == "copied").Select(l => l.GetProperty("path").GetString()).Order());
    }

    [Fact]
    public void TreeIndex_TrustsAFileOnlyWhileSizeTimesAndInodeAreUnchanged()
    {
        using var tmp = new TempDir();
        string f = tmp.Sub("f.bin");
        Trees.WriteRandom(f, 1000, 1);
        using var index = new TreeIndex(tmp.Sub("index.db"));
        var h = Haul.Content.Hash256.Of(File.ReadAllBytes(f));
        index.Store(tmp.Path, "f.bin", Native.Stat(f), h);
        Assert.Equal(h, index.Lookup(tmp.Path, "f.bin", Native.Stat(f)));
        var t = File.GetLastWriteTimeUtc(f);
        using (var fs = new FileStream(f, FileMode.Open))
        {
            fs.WriteByte(1);
        }

        File.SetLastWriteTimeUtc(f, t); // same size and mtime; ctime moved
        Assert.Null(index.Lookup(tmp.Path, "f.bin", Native.Stat(f)));
    }

    /// <summary>A destination whose writes of one path fail (the far side of the runner, for this unit test only).</summary>
    private sealed class FailingEnd(LocalEnd inner, string failOn) : ISyncEnd
    {
        public string Display => inner.Display;

        public bool NeedsHashBeforeWrite => false;

        public Task<bool> ExistsAsync(CancellationToken cancellationToken = default) => inner.ExistsAsync(cancellationToken);

        public IAsyncEnumerable<SyncEntry> ListAsync(SyncFilter filter, CancellationToken cancellationToken = default) => inner.ListAsync(filter, cancellationToken);

        public Task<SyncEntry> ResolveAsync(SyncEntry entry, CancellationToken cancellationToken = default) => inner.ResolveAsync(entry, cancellationToken);

        public Task<Haul.Content.Hash256> HashAsync(SyncEntry entry, bool reread, CancellationToken cancellationToken = default) => inner.HashAsync(entry, reread, cancellationToken);

        public Task<Stream> OpenReadAsync(SyncEntry entry, CancellationToken cancellationToken = default) => inner.OpenReadAsync(entry, cancellationToken);

        public Task WriteAsync(SyncEntry entry, Stream content, Haul.Content.Hash256? sha256, CancellationToken cancellationToken = default) =>
            entry.Path == failOn ? throw new IOException("injected write failure") : inner.WriteAsync(entry, content, sha256, cancellationToken);

        public Task SetMtimeAsync(SyncEntry entry, long mtimeTicks, CancellationToken cancellationToken = default) => inner.SetMtimeAsync(entry, mtimeTicks, cancellationToken);

        public Task DeleteAsync(SyncEntry entry, CancellationToken cancellationToken = default) => inner.DeleteAsync(entry, cancellationToken);

        public Task BackupAsync(SyncEntry entry, string backupRoot, CancellationToken cancellationToken = default) => inner.BackupAsync(entry, backupRoot, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task Sync_DoesNotDeleteAnExtraWhoseNameDiffersFromANewFileOnlyInCase_UntilTheNextRun()
    {
        // On a case-insensitive destination (macOS, Windows, exFAT, ext4 casefold) "Data.csv" and
        // "data.csv" are one file: the copy overwrites it, and deleting the extra would delete the copy.
        // This kernel has no case-insensitive file system to test on, so the rule is shown on ext4: the
        // extra stays, with a notice, for one run.
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "Data.csv"), 5_000, 1);
        Trees.WriteRandom(Path.Combine(dst, "data.csv"), 4_000, 2);

        var first = await Run(tmp, "sync", src, dst, "--json");

        Assert.Equal(0, first.Code);
        Assert.True(Trees.SameBytes(Path.Combine(src, "Data.csv"), Path.Combine(dst, "Data.csv")));
        Assert.True(File.Exists(Path.Combine(dst, "data.csv")), "a name differing only in case is not deleted in the run that copies its twin");
        Assert.Contains("differs from it only in case", first.Out + first.Err, StringComparison.Ordinal);

        var second = await Run(tmp, "sync", src, dst, "--json");
        Assert.Equal(0, second.Code);
        Assert.False(File.Exists(Path.Combine(dst, "data.csv")));
        Assert.True(Trees.SameBytes(Path.Combine(src, "Data.csv"), Path.Combine(dst, "Data.csv")));
    }

    [Fact]
    public async Task Sync_CopiesAFileWhoseNameIsAtTheLengthLimit()
    {
        // The temporary name is the name with a prefix: at 250 bytes it passed the 255-byte limit.
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        string name = new string('n', 250) + ".bin";
        Trees.WriteRandom(Path.Combine(src, name), 3_000, 1);

        var r = await Run(tmp, "sync", src, dst);

        Assert.True(r.Code == 0, r.Err);
        Assert.True(Trees.SameBytes(Path.Combine(src, name), Path.Combine(dst, name)));
    }
}
