using Haul.Tests.Support;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Sync;

/// <summary>
/// rclone's flags and output levels through the real CLI binary, local to local: what a user coming from
/// rclone types, and what they then see on the terminal.
/// </summary>
[Collection("nodes")]
public sealed class SyncFlagsTests
{
    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task DefaultOutput_IsOneSummaryLine_WhateverTheNumberOfFiles()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        foreach (int n in new[] { 3, 120 })
        {
            string src = tmp.Sub($"src{n}");
            for (int i = 0; i < n; i++)
            {
                Trees.WriteRandom(Path.Combine(src, $"d{i % 7}", $"f{i}.bin"), 100, i);
            }

            var r = await Run(home, "sync", src, tmp.Sub($"dst{n}"));

            Assert.True(r.Code == 0, r.Err);
            Assert.Empty(r.Out);
            var line = Assert.Single(Lines(r.Err));
            Assert.StartsWith($"sync: {n} copied", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Verbose_PrintsOneLinePerFileAction_AndQuietPrintsNothingOnSuccess()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 100, 1);
        Trees.WriteRandom(Path.Combine(src, "sub", "b.bin"), 100, 2);
        Trees.WriteRandom(Path.Combine(dst, "old.bin"), 100, 3);

        var v = await Run(home, "sync", src, dst, "-v");
        Assert.True(v.Code == 0, v.Err);
        var lines = Lines(v.Err);
        Assert.Equal(4, lines.Length);
        Assert.Contains(lines, l => l.Contains("copied", StringComparison.Ordinal) && l.EndsWith("a.bin (100 bytes)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("copied", StringComparison.Ordinal) && l.EndsWith("sub/b.bin (100 bytes)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("deleted", StringComparison.Ordinal) && l.EndsWith("old.bin (100 bytes)", StringComparison.Ordinal));
        Assert.StartsWith("sync: 2 copied", lines[^1], StringComparison.Ordinal);

        Trees.WriteRandom(Path.Combine(src, "c.bin"), 100, 4);
        var q = await Run(home, "copy", src, dst, "-q");
        Assert.True(q.Code == 0, q.Err);
        Assert.Equal(string.Empty, q.Out + q.Err);
        Assert.True(File.Exists(Path.Combine(dst, "c.bin")));

        // -q still prints the error that fails a run.
        var bad = await Run(home, "copy", tmp.Sub("nope"), dst, "-q");
        Assert.Equal((int)ErrorCode.PathNotFound, bad.Code);
        Assert.Single(Lines(bad.Err));
    }

    [Fact]
    public async Task Progress_WhenStandardErrorIsNotATerminal_PrintsPlainLinesEndingAtTheTotal()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 300_000, 1);
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 200_000, 2);

        var r = await Run(tmp.Sub("home"), "copy", src, tmp.Sub("dst"), "-P");

        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain('\r', r.Err);
        var lines = Lines(r.Err);
        Assert.InRange(lines.Length, 2, 6);
        Assert.Contains("100.0%", lines[^2], StringComparison.Ordinal);
        Assert.Contains("2/2 files", lines[^2], StringComparison.Ordinal);
        Assert.Contains("ETA", lines[^2], StringComparison.Ordinal);
        Assert.StartsWith("copy: 2 copied", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bisync_DefaultIsOneLine_VerboseListsFiles_QuietNothing()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), one = tmp.Sub("one"), two = tmp.Sub("two");
        Assert.Equal(0, (await Run(home, "init", "--name", "lab-a")).Code);
        Trees.WriteRandom(Path.Combine(one, "a.bin"), 100, 1);
        Trees.WriteRandom(Path.Combine(two, "b.bin"), 100, 2);

        var first = await Run(home, "bisync", one, two);
        Assert.True(first.Code == 0, first.Err);
        Assert.Single(Lines(first.Err));

        Trees.WriteRandom(Path.Combine(one, "c.bin"), 100, 3);
        var v = await Run(home, "bisync", one, two, "-v");
        Assert.True(v.Code == 0, v.Err);
        Assert.Equal(2, Lines(v.Err).Length);
        Assert.Contains("c.bin", Lines(v.Err)[0], StringComparison.Ordinal);

        Trees.WriteRandom(Path.Combine(two, "d.bin"), 100, 4);
        var q = await Run(home, "bisync", one, two, "-q");
        Assert.True(q.Code == 0, q.Err);
        Assert.Equal(string.Empty, q.Out + q.Err);
        Assert.True(File.Exists(Path.Combine(one, "d.bin")));
    }

    [Fact]
    public async Task Filter_RulesApplyInOrder_AndDeleteExcludedRemovesExcludedFilesOnTheDestination()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "keep.txt"), 100, 1);
        Trees.WriteRandom(Path.Combine(src, "docs", "more.txt"), 100, 2);
        Trees.WriteRandom(Path.Combine(src, "docs", "secret.txt"), 100, 3);
        Trees.WriteRandom(Path.Combine(src, "skip.bin"), 100, 4);
        Trees.WriteRandom(Path.Combine(dst, "local.tmp"), 100, 5);
        File.WriteAllLines(tmp.Sub("rules"), ["# text files only", "+ *.txt", "- *"]);

        var r = await Run(home, "sync", src, dst, "--filter", "- secret.txt", "--filter-from", tmp.Sub("rules"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["docs/more.txt", "keep.txt", "local.tmp"], Files(dst));

        var d = await Run(home, "sync", src, dst, "--filter", "- secret.txt", "--filter-from", tmp.Sub("rules"), "--delete-excluded");
        Assert.True(d.Code == 0, d.Err);
        Assert.Equal(["docs/more.txt", "keep.txt"], Files(dst));

        // A malformed rule is one line naming it; nothing changes.
        var bad = await Run(home, "sync", src, dst, "--filter", "*.txt");
        Assert.Equal((int)ErrorCode.Usage, bad.Code);
        Assert.Contains("does not start with '+ ' or '- '", Assert.Single(Lines(bad.Err)), StringComparison.Ordinal);
        Assert.Equal(["docs/more.txt", "keep.txt"], Files(dst));
    }

    [Fact]
    public async Task FilesFrom_CopiesOnlyTheListedPaths_AndRefusesAListThatClimbsOut()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 100, 1);
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 100, 2);
        Trees.WriteRandom(Path.Combine(src, "deep", "c.bin"), 100, 3);
        Trees.WriteRandom(Path.Combine(src, "deep", "d.bin"), 100, 4);
        Trees.WriteRandom(Path.Combine(tmp.Path, "outside.bin"), 100, 5);
        Trees.WriteRandom(Path.Combine(dst, "extra.bin"), 100, 6);
        File.WriteAllLines(tmp.Sub("list"), ["./a.bin", "/deep/c.bin", "not-there.bin"]);

        var r = await Run(home, "sync", src, dst, "--files-from", tmp.Sub("list"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["a.bin", "deep/c.bin", "extra.bin"], Files(dst));

        File.WriteAllLines(tmp.Sub("evil"), ["a.bin", "../outside.bin"]);
        var evil = await Run(home, "copy", src, tmp.Sub("dst2"), "--files-from", tmp.Sub("evil"));
        Assert.Equal((int)ErrorCode.UnsafePath, evil.Code);
        Assert.Contains("line 2", Assert.Single(Lines(evil.Err)), StringComparison.Ordinal);
        Assert.DoesNotContain("outside", evil.Err, StringComparison.Ordinal);
        Assert.Empty(Files(tmp.Sub("dst2")));
    }

    [Fact]
    public async Task SizeOnly_LeavesSameSizeFilesAlone_AndIgnoreExistingNeverTouchesWhatIsThere()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "same-size.bin"), 1000, 1);
        Trees.WriteRandom(Path.Combine(dst, "same-size.bin"), 1000, 2);
        File.SetLastWriteTimeUtc(Path.Combine(dst, "same-size.bin"), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Trees.WriteRandom(Path.Combine(src, "grown.bin"), 2000, 3);
        Trees.WriteRandom(Path.Combine(dst, "grown.bin"), 1000, 4);
        string sameBefore = Trees.Sha(Path.Combine(dst, "same-size.bin"));

        var s = await Run(home, "copy", src, dst, "--size-only", "--json");
        Assert.True(s.Code == 0, s.Err);
        Assert.Equal(1, Summary(s.Out).GetProperty("copied").GetInt64());
        Assert.Equal(0, Summary(s.Out).GetProperty("touched").GetInt64());
        Assert.Equal(sameBefore, Trees.Sha(Path.Combine(dst, "same-size.bin")));
        Assert.Equal(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(dst, "same-size.bin")));
        Assert.True(Trees.SameBytes(Path.Combine(src, "grown.bin"), Path.Combine(dst, "grown.bin")));

        Trees.WriteRandom(Path.Combine(src, "grown.bin"), 3000, 5);
        Trees.WriteRandom(Path.Combine(src, "new.bin"), 100, 6);
        string grownBefore = Trees.Sha(Path.Combine(dst, "grown.bin"));
        var i = await Run(home, "copy", src, dst, "--ignore-existing", "--json");
        Assert.True(i.Code == 0, i.Err);
        Assert.Equal(1, Summary(i.Out).GetProperty("copied").GetInt64());
        Assert.Equal(grownBefore, Trees.Sha(Path.Combine(dst, "grown.bin")));
        Assert.Equal(sameBefore, Trees.Sha(Path.Combine(dst, "same-size.bin")));
        Assert.True(File.Exists(Path.Combine(dst, "new.bin")));

        // Without either flag the same tree is brought up to date.
        Assert.Equal(0, (await Run(home, "copy", src, dst)).Code);
        Assert.True(Trees.SameBytes(Path.Combine(src, "grown.bin"), Path.Combine(dst, "grown.bin")));
        Assert.True(Trees.SameBytes(Path.Combine(src, "same-size.bin"), Path.Combine(dst, "same-size.bin")));
    }

    [Fact]
    public async Task TransfersZero_RunsWithTheDefault_ANegativeCountIsOneLine()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), src = tmp.Sub("src");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 100, 1);

        var zero = await Run(home, "copy", src, tmp.Sub("dst"), "--transfers", "0");
        Assert.True(zero.Code == 0, zero.Err);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("dst"), "a.bin")));

        var neg = await Run(home, "copy", src, tmp.Sub("dst2"), "--transfers", "-2");
        Assert.Equal((int)ErrorCode.Usage, neg.Code);
        Assert.Contains("--transfers -2", Assert.Single(Lines(neg.Err)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sync", "--filter --filter-from --files-from --delete-excluded --size-only --ignore-existing --verbose --progress --quiet --transfers")]
    [InlineData("copy", "--filter --filter-from --files-from --size-only --ignore-existing --verbose --progress --quiet --transfers")]
    [InlineData("check", "--filter --filter-from --files-from --size-only --verbose --quiet")]
    [InlineData("bisync", "--filter --filter-from --files-from --verbose --progress --quiet")]
    public async Task Help_ShowsEachNewFlagOnce_WithAOneLineDescription(string verb, string flags)
    {
        var r = await HaulProcess.RunAsync(verb, "--help");
        Assert.Equal(0, r.Code);
        var lines = Lines(r.Out);
        foreach (var flag in flags.Split(' '))
        {
            var line = Assert.Single(lines, l => l.Split("  ")[0].Split(' ', ',').Contains(flag));
            Assert.True(line.Length > flag.Length + 20, line);
        }
    }
}
