using Haul.Sync;
using Haul.Tests.Support;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Sync;

/// <summary>Two-way sync through the real CLI: local folders, and a local folder with a real peer's folder.</summary>
[Collection("nodes")]
public sealed class BisyncTests
{
    private static void Write(string path, string text, DateTime mtimeUtc)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, mtimeUtc);
    }

    private static void AssertSameTrees(string x, string y)
    {
        Assert.Equal(Files(x), Files(y));
        foreach (var rel in Files(x))
        {
            Assert.True(Trees.SameBytes(Path.Combine(x, rel), Path.Combine(y, rel)), rel);
        }
    }

    [Fact]
    public void ConflictName_KeepsTheExtensionLast()
    {
        var when = new DateTimeOffset(2026, 11, 22, 22, 45, 0, TimeSpan.Zero);
        Assert.Equal("dir/model.conflict-20261122-224500-lab-b.pt", BisyncRunner.ConflictName("dir/model.pt", when, "lab-b"));
        Assert.Equal("README.conflict-20261122-224500-x.md", BisyncRunner.ConflictName("README.md", when, "x"));
        Assert.Equal("Makefile.conflict-20261122-224500-x", BisyncRunner.ConflictName("Makefile", when, "x"));
    }

    [Fact]
    public async Task LocalFolders_FirstRunUnites_ThenChangesDeletesAndConflictsPropagate()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), one = tmp.Sub("one"), two = tmp.Sub("two");
        var t0 = DateTime.UtcNow.AddHours(-2);
        Write(Path.Combine(one, "a.txt"), "a", t0);
        Write(Path.Combine(one, "shared", "s.txt"), "s", t0);
        Write(Path.Combine(two, "b.txt"), "b", t0);
        Write(Path.Combine(two, "shared", "s.txt"), "s", t0);
        Write(Path.Combine(two, "gone.txt"), "g", t0);

        var first = await Run(home, "bisync", one, two, "--json");
        Assert.True(first.Code == 0, first.Err);
        Assert.True(Summary(first.Out).GetProperty("firstRun").GetBoolean());
        AssertSameTrees(one, two);

        // Side 1 edits a.txt and deletes gone.txt; side 2 adds c.txt; both edit s.txt (2's edit is newer).
        Write(Path.Combine(one, "a.txt"), "a2", t0.AddMinutes(10));
        File.Delete(Path.Combine(one, "gone.txt"));
        Write(Path.Combine(two, "c.txt"), "c", t0.AddMinutes(10));
        Write(Path.Combine(one, "shared", "s.txt"), "s-from-one", t0.AddMinutes(20));
        Write(Path.Combine(two, "shared", "s.txt"), "s-from-two", t0.AddMinutes(30));

        var plan = await Run(home, "bisync", one, two, "--dry-run", "--json");
        Assert.Equal(0, plan.Code);
        Assert.Contains("\"conflict-path2-wins\"", plan.Out);
        Assert.Contains("\"delete-on-path2\"", plan.Out);
        Assert.False(File.Exists(Path.Combine(two, "c.txt")) && File.Exists(Path.Combine(one, "c.txt")), "a dry run changes nothing");

        var second = await Run(home, "bisync", one, two, "--json");
        Assert.True(second.Code == 0, second.Err);
        var s = Summary(second.Out);
        Assert.Equal(1, s.GetProperty("conflicts").GetInt64());
        Assert.Equal(1, s.GetProperty("deletedOn2").GetInt64());
        AssertSameTrees(one, two);
        Assert.Equal("a2", File.ReadAllText(Path.Combine(two, "a.txt")));
        Assert.Equal("c", File.ReadAllText(Path.Combine(one, "c.txt")));
        Assert.False(File.Exists(Path.Combine(two, "gone.txt")));
        Assert.Equal("s-from-two", File.ReadAllText(Path.Combine(one, "shared", "s.txt")));
        string loser = Assert.Single(Files(one), f => f.Contains(".conflict-", StringComparison.Ordinal));
        Assert.Matches(@"^shared/s\.conflict-\d{8}-\d{6}-[^.]+\.txt$", loser);
        Assert.Equal("s-from-one", File.ReadAllText(Path.Combine(one, loser)));

        var third = await Run(home, "bisync", one, two, "--json");
        Assert.Equal(0, third.Code);
        var t = Summary(third.Out);
        Assert.Equal(0, t.GetProperty("copiedTo1").GetInt64() + t.GetProperty("copiedTo2").GetInt64() + t.GetProperty("deletedOn1").GetInt64() + t.GetProperty("deletedOn2").GetInt64());
    }

    /// <summary>
    /// A file edited on side 1 after the run listed it (the hook is the runner's plan callback, which
    /// runs between listing and copying) is not in this run's copies; the baseline must not record the
    /// edit as already synced, so the next run carries it to side 2.
    /// </summary>
    [Fact]
    public async Task AnEditOnSide1DuringARun_IsPropagatedByTheNextRun()
    {
        using var tmp = new TempDir();
        var (home, one, two, t0) = await EditedDuringARun(tmp);
        Assert.Equal("a", File.ReadAllText(Path.Combine(two, "a.txt")));

        var next = await RunInProcess(home, one, two);
        Assert.Equal(1, next.CopiedTo2);
        Assert.Equal("a-edited-mid-run", File.ReadAllText(Path.Combine(two, "a.txt")));
        AssertSameTrees(one, two);
        Assert.Equal(t0.AddMinutes(20), File.GetLastWriteTimeUtc(Path.Combine(two, "a.txt")));
    }

    /// <summary>The same mid-run edit, then an edit of that file on side 2 before the next run: both sides changed it, so it is a conflict with a conflict copy, never a silent overwrite of side 1's edit.</summary>
    [Fact]
    public async Task AnEditOnSide1DuringARun_ThenAnEditOnSide2_IsAConflict_NotAnOverwrite()
    {
        using var tmp = new TempDir();
        var (home, one, two, t0) = await EditedDuringARun(tmp);
        Write(Path.Combine(two, "a.txt"), "a-from-two", t0.AddMinutes(30));

        var next = await RunInProcess(home, one, two);
        Assert.Equal(1, next.Conflicts);
        AssertSameTrees(one, two);
        Assert.Equal("a-from-two", File.ReadAllText(Path.Combine(one, "a.txt")));
        string kept = Assert.Single(Files(one), f => f.Contains(".conflict-", StringComparison.Ordinal));
        Assert.Equal("a-edited-mid-run", File.ReadAllText(Path.Combine(one, kept)));
    }

    /// <summary>Listed names pass the manifest path rule here too: a local name with a backslash is skipped with one line, the run fails, and its deletion is not carried out.</summary>
    [Fact]
    public async Task ANameThePathRuleRefuses_IsSkippedWithALine_AndNothingIsDeleted()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), one = tmp.Sub("one"), two = tmp.Sub("two");
        var t0 = DateTime.UtcNow.AddHours(-2);
        Write(Path.Combine(one, "a.txt"), "a", t0);
        Write(Path.Combine(one, "gone.txt"), "g", t0);
        Directory.CreateDirectory(two);
        Assert.Equal(0, (await Run(home, "bisync", one, two)).Code);

        File.Delete(Path.Combine(one, "gone.txt"));
        Write(Path.Combine(one, "back\\slash.txt"), "x", t0);
        var r = await Run(home, "bisync", one, two);
        Assert.True(r.Code == (int)ErrorCode.SyncIncomplete, r.Err);
        Assert.Single(r.Err.Split('\n'), l => l.Contains(" refused  back\\slash.txt: ", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(two, "gone.txt")));
        Assert.False(File.Exists(Path.Combine(two, "back\\slash.txt")));
    }

    /// <summary>Two synced files; b.txt changed on side 1, and while that run copies it, a.txt is edited on side 1.</summary>
    private static async Task<(string Home, string One, string Two, DateTime T0)> EditedDuringARun(TempDir tmp)
    {
        string home = tmp.Sub("home"), one = tmp.Sub("one"), two = tmp.Sub("two");
        var t0 = DateTime.UtcNow.AddHours(-2);
        Write(Path.Combine(one, "a.txt"), "a", t0);
        Write(Path.Combine(one, "b.txt"), "b", t0);
        Directory.CreateDirectory(two);
        Assert.True((await RunInProcess(home, one, two)).FirstRun);
        AssertSameTrees(one, two);

        Write(Path.Combine(one, "b.txt"), "b2", t0.AddMinutes(10));
        bool edited = false;
        var during = await RunInProcess(home, one, two, a =>
        {
            if (!edited)
            {
                Write(Path.Combine(one, "a.txt"), "a-edited-mid-run", t0.AddMinutes(20));
                edited = true;
            }
        });
        Assert.True(edited);
        Assert.Equal(1, during.CopiedTo2);
        Assert.Equal("b2", File.ReadAllText(Path.Combine(two, "b.txt")));
        return (home, one, two, t0);
    }

    private static async Task<BisyncStats> RunInProcess(string home, string one, string two, Action<BisyncAction>? onPlanned = null)
    {
        Directory.CreateDirectory(home);
        using var state = BisyncState.ForHome(home);
        using var log = new SyncLog(null, json: false, quiet: true);
        await using var side1 = new LocalEnd(one, null);
        await using var side2 = new LocalEnd(two, null);
        var runner = new BisyncRunner(side1, side2, new BisyncOptions(), state, log) { OnPlanned = onPlanned };
        return await runner.RunAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ARunThatWouldDeleteMostOfASide_IsRefused_AndChangesNothing()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home"), one = tmp.Sub("one"), two = tmp.Sub("two");
        for (int i = 0; i < 4; i++)
        {
            Write(Path.Combine(one, $"f{i}.txt"), "x" + i, DateTime.UtcNow.AddHours(-1));
        }

        Directory.CreateDirectory(two);
        Assert.Equal(0, (await Run(home, "bisync", one, two)).Code);
        for (int i = 0; i < 3; i++)
        {
            File.Delete(Path.Combine(one, $"f{i}.txt"));
        }

        var r = await Run(home, "bisync", one, two);
        Assert.Equal((int)ErrorCode.SyncIncomplete, r.Code);
        Assert.Contains("--max-delete", r.Err);
        Assert.Equal(4, Files(two).Count);

        Assert.Equal(0, (await Run(home, "bisync", one, two, "--max-delete", "100")).Code);
        Assert.Equal(["f3.txt"], Files(two));
    }

    [Fact]
    public async Task WithAPeersFolder_ChangesFlowBothWays_OverRealTransfers()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = tmp.Sub("owned"), local = tmp.Sub("local");
        var t0 = DateTime.UtcNow.AddHours(-1);
        Write(Path.Combine(owned, "models", "prod.txt"), "v1", t0);
        Write(Path.Combine(local, "exp", "run-1.txt"), "r1", t0);
        Assert.Equal(0, (await Run(pair.B.Home, "folder", "add", "models", Path.Combine(owned, "models"), "--share", "lab-a:rw")).Code);

        var first = await Run(pair.A.Home, "bisync", local, "lab-b:models", "--json");
        Assert.True(first.Code == 0, first.Err);
        AssertSameTrees(local, Path.Combine(owned, "models"));

        Write(Path.Combine(owned, "models", "prod.txt"), "v2 from the hub", t0.AddMinutes(5));
        Write(Path.Combine(local, "prod.txt"), "v2 from the edge", t0.AddMinutes(9));
        File.Delete(Path.Combine(local, "exp", "run-1.txt"));
        var second = await Run(pair.A.Home, "bisync", local, "lab-b:models", "--conflict", "path2", "--max-delete", "100", "--json");
        Assert.True(second.Code == 0, second.Err);
        AssertSameTrees(local, Path.Combine(owned, "models"));
        Assert.Equal("v2 from the hub", File.ReadAllText(Path.Combine(local, "prod.txt")));
        Assert.False(File.Exists(Path.Combine(owned, "models", "exp", "run-1.txt")));
        string loser = Assert.Single(Files(local), f => f.Contains(".conflict-", StringComparison.Ordinal));
        Assert.Equal("v2 from the edge", File.ReadAllText(Path.Combine(local, loser)));
    }
}
