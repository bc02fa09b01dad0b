using Haul.Tests.Support;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Sync;

/// <summary>
/// Symlinked trees (a Hugging Face cache snapshot: every file a relative link into ../../blobs) through the
/// real CLI, side by side with rclone: without -L/--copy-links each link is skipped with a notice and
/// counted; with it, every file arrives as a regular file with its target's content, for sync, check and
/// a send to a peer. Loops, broken links and links to FIFOs are skipped, never followed forever.
/// </summary>
[Collection("nodes")]
public sealed class CopyLinksTests
{
    /// <summary>models--x/{blobs/HASH, snapshots/rev1/{config.json, sub/model.bin}} with the snapshot's files relative links into blobs; returns the snapshot.</summary>
    private static string HfCache(TempDir tmp)
    {
        string repo = tmp.Sub("cache/models--x");
        string blobs = Path.Combine(repo, "blobs");
        string snap = Path.Combine(repo, "snapshots", "rev1");
        Directory.CreateDirectory(blobs);
        Directory.CreateDirectory(Path.Combine(snap, "sub"));
        File.WriteAllText(Path.Combine(blobs, "aaa"), "{\"hidden\": 64}");
        File.WriteAllBytes(Path.Combine(blobs, "bbb"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        File.CreateSymbolicLink(Path.Combine(snap, "config.json"), "../../blobs/aaa");
        File.CreateSymbolicLink(Path.Combine(snap, "sub", "model.bin"), "../../../blobs/bbb");
        return snap;
    }

    private static void AssertRegularCopies(string snap, string dst)
    {
        Assert.Equal(["config.json", "sub/model.bin"], Files(dst));
        foreach (var rel in new[] { "config.json", "sub/model.bin" })
        {
            var fi = new FileInfo(Path.Combine(dst, rel));
            Assert.Null(fi.LinkTarget);
            Assert.True(Trees.SameBytes(Path.Combine(snap, rel), fi.FullName), rel);
        }
    }

    [Fact]
    public async Task ASnapshotOfLinks_IsSkippedWithANoticePerLink_AndCopiedAsRegularFilesWithL()
    {
        using var tmp = new TempDir();
        string snap = HfCache(tmp);
        string home = tmp.Sub("home");
        string dst = tmp.Sub("out");

        var without = await Run(home, "sync", snap, dst, "--json");
        Assert.True(without.Code == 0, without.Err);
        Assert.Contains("config.json: can't follow symlink without -L/--copy-links", without.Err);
        Assert.Contains("sub/model.bin: can't follow symlink without -L/--copy-links", without.Err);
        Assert.Equal(2, Summary(without.Out).GetProperty("skippedLinks").GetInt64());
        Assert.False(Directory.Exists(dst), "nothing to copy: no destination is made (rclone makes none either)");

        var text = await Run(home, "copy", snap, dst);
        Assert.Contains("2 symlinks skipped (-L/--copy-links follows them)", text.Err);

        var with = await Run(home, "sync", "-L", snap, dst, "--json");
        Assert.True(with.Code == 0, with.Err);
        Assert.Equal(2, Summary(with.Out).GetProperty("copied").GetInt64());
        Assert.Equal(0, Summary(with.Out).GetProperty("skippedLinks").GetInt64());
        AssertRegularCopies(snap, dst);

        var check = await Run(home, "check", "--copy-links", snap, dst);
        Assert.True(check.Code == 0, check.Err);
        Assert.Contains("2 files compared, 0 differences", check.Err);

        // A second run with -L finds nothing to do (the followed files' times and sizes are the targets').
        var again = await Run(home, "sync", "-L", snap, dst, "--json");
        Assert.Equal(0, Summary(again.Out).GetProperty("copied").GetInt64());
        Assert.Equal(2, Summary(again.Out).GetProperty("unchanged").GetInt64());
    }

    [Fact]
    public async Task ASourceThatIsALinkToAFolder_IsFollowedWithoutL_AsRcloneFollowsItsRoot()
    {
        using var tmp = new TempDir();
        string real = tmp.Sub("real");
        Directory.CreateDirectory(real);
        File.WriteAllText(Path.Combine(real, "f.txt"), "root");
        string link = tmp.Sub("link");
        Directory.CreateSymbolicLink(link, real);

        var r = await Run(tmp.Sub("home"), "copy", link, tmp.Sub("out"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["f.txt"], Files(tmp.Sub("out")));
    }

    [Fact]
    public async Task WithL_LoopsBrokenLinksAndLinksToFifos_AreSkippedWithANotice_AndTheRestCopied()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src");
        Directory.CreateDirectory(Path.Combine(src, "a"));
        File.WriteAllText(Path.Combine(src, "a", "f"), "x");
        Directory.CreateSymbolicLink(Path.Combine(src, "a", "up"), "..");
        File.CreateSymbolicLink(Path.Combine(src, "broken"), "/nonexistent/haul-test");
        string fifo = Path.Combine(src, "fifo");
        Assert.Equal(0, System.Diagnostics.Process.Start("mkfifo", fifo).WaitForExitAndCode());
        File.CreateSymbolicLink(Path.Combine(src, "tofifo"), "fifo");

        var r = await Run(tmp.Sub("home"), "sync", "-L", src, tmp.Sub("out"), "--json");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("a/up: symlink loop", r.Err);
        Assert.Contains("broken: symlink to nothing", r.Err);
        Assert.Contains("tofifo: symlink to a device, FIFO or socket", r.Err);
        Assert.Equal(3, Summary(r.Out).GetProperty("skippedLinks").GetInt64());
        Assert.Equal(["a/f"], Files(tmp.Sub("out")));
    }

    [Fact]
    public async Task SendAndSyncToAPeer_WithL_DeliverTheLinkedContentAsRegularFiles()
    {
        using var tmp = new TempDir();
        string snap = HfCache(tmp);
        await using var pair = await NodePair.StartAsync(tmp);

        // Without -L the links point outside the sent folder, and the send is refused with a hint naming -L.
        var refused = await Run(pair.A.Home, "send", snap, "lab-b");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("-L/--copy-links", refused.Err);

        File.CreateSymbolicLink(Path.Combine(snap, "dangling"), "../../blobs/gone");
        var sent = await Run(pair.A.Home, "send", "-L", snap, "lab-b");
        Assert.True(sent.Code == 0, sent.Err);
        Assert.Contains("rev1/dangling: symlink to nothing; skipped", sent.Err + sent.Out);
        AssertRegularCopies(snap, pair.Landed("rev1"));

        string owned = tmp.Sub("owned");
        Directory.CreateDirectory(owned);
        var add = await Run(pair.B.Home, "folder", "add", "data", owned, "--share", "lab-a:rw");
        Assert.True(add.Code == 0, add.Err);
        var push = await Run(pair.A.Home, "sync", "-L", snap, "lab-b:data/rev1");
        Assert.True(push.Code == 0, push.Err);
        AssertRegularCopies(snap, Path.Combine(owned, "rev1"));
    }
}

internal static class ProcessExtensions
{
    public static int WaitForExitAndCode(this System.Diagnostics.Process p)
    {
        p.WaitForExit();
        return p.ExitCode;
    }
}
