using Haul.Tests.Support;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Sync;

/// <summary>
/// Folders in a sync, as rclone sync treats them: the destination's folders that the source lacks are
/// removed once their files are (counted, listed by a dry run, not after an error); the source's empty
/// folders are not created (rclone needs --create-empty-src-dirs). Through the real CLI, local and peer.
/// </summary>
[Collection("nodes")]
public sealed class EmptyFolderSyncTests
{
    /// <summary>A source with keep/f and an empty folder; a destination with keep/f, extra folders (one already empty, one emptied by the sync, one holding an excluded file).</summary>
    private static (string Src, string Dst) Tree(TempDir tmp)
    {
        string src = tmp.Sub("src");
        string dst = tmp.Sub("dst");
        Directory.CreateDirectory(Path.Combine(src, "keep"));
        Directory.CreateDirectory(Path.Combine(src, "emptysrc"));
        File.WriteAllText(Path.Combine(src, "keep", "f"), "a");
        Directory.CreateDirectory(Path.Combine(dst, "keep", "emptyinner"));
        Directory.CreateDirectory(Path.Combine(dst, "gone", "sub"));
        Directory.CreateDirectory(Path.Combine(dst, "emptydst"));
        Directory.CreateDirectory(Path.Combine(dst, "held"));
        File.WriteAllText(Path.Combine(dst, "gone", "sub", "g"), "x");
        File.WriteAllText(Path.Combine(dst, "held", "a.log"), "y");
        return (src, dst);
    }

    private static List<string> Dirs(string root) =>
        Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Select(d => Path.GetRelativePath(root, d)).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Sync_RemovesTheDestinationsExtraFolders_AsRcloneDoes_AndADryRunListsThem()
    {
        using var tmp = new TempDir();
        var (src, dst) = Tree(tmp);
        string home = tmp.Sub("home");

        var dry = await Run(home, "sync", src, dst, "--exclude", "*.log", "-n");
        Assert.True(dry.Code == 0, dry.Err);
        Assert.Equal(["rmdir keep/emptyinner/", "rmdir gone/sub/", "rmdir gone/", "rmdir emptydst/"], dry.Out.Split('\n').Where(l => l.StartsWith("rmdir", StringComparison.Ordinal)));
        Assert.Contains("would remove 4 folders", dry.Err);
        Assert.Contains("gone", Dirs(dst));

        var r = await Run(home, "sync", src, dst, "--exclude", "*.log", "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(4, Summary(r.Out).GetProperty("foldersRemoved").GetInt64());
        Assert.Equal(1, Summary(r.Out).GetProperty("deleted").GetInt64());

        // "held" keeps its excluded file; the source's empty folder is not created (rclone's default).
        Assert.Equal(["held", "keep"], Dirs(dst));
        Assert.True(File.Exists(Path.Combine(dst, "held", "a.log")));
    }

    [Fact]
    public async Task CopyAndARefusedDeletion_LeaveFoldersAlone()
    {
        using var tmp = new TempDir();
        var (src, dst) = Tree(tmp);
        string home = tmp.Sub("home");

        var copy = await Run(home, "copy", src, dst);
        Assert.True(copy.Code == 0, copy.Err);
        Assert.Contains("gone/sub", Dirs(dst));

        // --max-delete 0 with one file to delete: nothing deleted, no folder removed either.
        var r = await Run(home, "sync", src, dst, "--max-delete", "0");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("emptydst", Dirs(dst));
        Assert.Contains("gone/sub", Dirs(dst));
    }

    [Fact]
    public async Task SyncToAPeer_RemovesTheFoldersItEmpties()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = tmp.Sub("owned");
        Directory.CreateDirectory(owned);
        var add = await Run(pair.B.Home, "folder", "add", "data", owned, "--share", "lab-a:rw");
        Assert.True(add.Code == 0, add.Err);
        string src = tmp.Sub("src");
        Directory.CreateDirectory(Path.Combine(src, "a", "b"));
        Directory.CreateDirectory(Path.Combine(src, "keep"));
        File.WriteAllText(Path.Combine(src, "a", "b", "f"), "one");
        File.WriteAllText(Path.Combine(src, "keep", "k"), "two");
        var first = await Run(pair.A.Home, "sync", src, "lab-b:data/run");
        Assert.True(first.Code == 0, first.Err);
        Assert.True(File.Exists(Path.Combine(owned, "run", "a", "b", "f")));

        Directory.Delete(Path.Combine(src, "a"), recursive: true);
        var dry = await Run(pair.A.Home, "sync", src, "lab-b:data/run", "-n");
        Assert.Contains("rmdir a/b/", dry.Out);
        Assert.Contains("rmdir a/", dry.Out);

        var r = await Run(pair.A.Home, "sync", src, "lab-b:data/run", "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(2, Summary(r.Out).GetProperty("foldersRemoved").GetInt64());
        Assert.False(Directory.Exists(Path.Combine(owned, "run", "a")));
        Assert.True(File.Exists(Path.Combine(owned, "run", "keep", "k")));

        // Pulling the other way removes the local folders the peer's folder lacks.
        string local = tmp.Sub("local");
        Directory.CreateDirectory(Path.Combine(local, "old", "deep"));
        File.WriteAllText(Path.Combine(local, "old", "deep", "x"), "x");
        var pull = await Run(pair.A.Home, "sync", "lab-b:data/run", local);
        Assert.True(pull.Code == 0, pull.Err);
        Assert.Equal(["keep"], Dirs(local));
    }
}
