using System.Diagnostics;
using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>
/// Short versions of bench/chaos/run.sh: real processes killed with SIGKILL at seeded random moments,
/// a read-only target and a cut link. After each fault, a file at its final path is whole or absent;
/// at the end the trees are identical and nothing temporary is left.
/// </summary>
[Collection("nodes")]
public sealed class ChaosTests
{
    private sealed record Nodes(string HomeA, string HomeB, int Port);

    private static Nodes Pair(TempDir tmp)
    {
        string homeA = tmp.Sub("a"), homeB = tmp.Sub("b");
        int port = HaulProcess.FreePort();
        using (var a = HaulNode.Init(homeA, "lab-a"))
        using (var b = HaulNode.Init(homeB, "lab-b"))
        {
            a.Store.AddPeer(b.Identity.Id, "lab-b", $"127.0.0.1:{port}");
            b.Store.AddPeer(a.Identity.Id, "lab-a", null);
        }

        return new Nodes(homeA, homeB, port);
    }

    private static async Task<HaulProcess> ServeAsync(Nodes n, params string[] extra)
    {
        var serve = HaulProcess.Start(["--home", n.HomeB, "serve", "--listen", $"127.0.0.1:{n.Port}", "--api", "off", .. extra]);
        for (int i = 0; i < 200 && !serve.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            Assert.False(serve.HasExited, "serve exited: " + serve.Stderr);
            await Task.Delay(50);
        }

        Assert.Contains("serving on", serve.Stderr, StringComparison.Ordinal);
        return serve;
    }

    /// <summary>Every file of <paramref name="dst"/> that the source also has is identical to it (placement is atomic).</summary>
    private static int AssertPlacedFilesWhole(string src, string dst)
    {
        if (!Directory.Exists(dst))
        {
            return 0;
        }

        int n = 0;
        foreach (var f in Directory.EnumerateFiles(dst, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(dst, f);
            if (rel.Split('/').Contains(".haul-partial"))
            {
                continue;
            }

            string s = Path.Combine(src, rel);
            if (File.Exists(s))
            {
                Assert.True(Trees.SameBytes(s, f), $"a torn or wrong file at its final path: {rel}");
                n++;
            }
        }

        return n;
    }

    private static void AssertNoLeftovers(params string[] roots)
    {
        foreach (var root in roots.Where(Directory.Exists))
        {
            var left = Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
                .Where(p => Path.GetFileName(p) == ".haul-partial" || Path.GetFileName(p).StartsWith(".haul-tmp-", StringComparison.Ordinal))
                .ToList();
            Assert.True(left.Count == 0, "left behind: " + string.Join(", ", left));
        }
    }

    /// <summary>
    /// Rounds of: start the command, wait a seeded random moment, SIGKILL the sender, the receiver or
    /// both. Then one run to the end. Returns how many rounds were cut short.
    /// </summary>
    private static async Task<int> KillLoopAsync(Nodes n, int rounds, int seed, string src, string dst, string[] command, Action? betweenRounds = null)
    {
        var rng = new Random(seed);
        var serve = await ServeAsync(n);
        int killed = 0;
        try
        {
            for (int r = 0; r < rounds; r++)
            {
                using var run = HaulProcess.Start(command);
                await Task.Delay(rng.Next(150, 1500));
                if (run.HasExited)
                {
                    // Finished before the kill: whatever it said, a zero exit means all is there.
                    if (await run.WaitAsync(TimeSpan.FromSeconds(5)) == 0)
                    {
                        Trees.AssertSame(src, dst);
                    }

                    betweenRounds?.Invoke();
                    continue;
                }

                killed++;
                int victim = rng.Next(3);
                if (victim != 1)
                {
                    run.Kill9();
                }

                if (victim != 0)
                {
                    serve.Kill9();
                    serve.Dispose();
                    serve = await ServeAsync(n);
                }

                if (!run.HasExited)
                {
                    await run.WaitAsync(TimeSpan.FromSeconds(60));
                }

                AssertPlacedFilesWhole(src, dst);
            }

            using var last = HaulProcess.Start(command);
            int code = await last.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.True(code == 0, $"the run after the kills exited {code}: {last.Stderr}");
        }
        finally
        {
            serve.Dispose();
        }

        Trees.AssertSame(src, dst);
        return killed;
    }

    [Fact]
    public async Task SendKilledAtRandomMoments_EndsByteIdentical_WithNothingLeftBehind()
    {
        using var tmp = new TempDir();
        var n = Pair(tmp);
        string src = tmp.Sub("src/run");
        Trees.WriteRandom(Path.Combine(src, "weights.bin"), 48_000_000, 31);
        Trees.WriteRandom(Path.Combine(src, "meta", "a.bin"), 3_000_000, 32);
        string dst = Path.Combine(n.HomeB, "inbox", "lab-a", "run");

        int killed = await KillLoopAsync(n, 5, 1801, src, dst, ["--home", n.HomeA, "send", src, "lab-b", "--json", "--max-rate", "20M"], () => Directory.Delete(dst, true));

        Assert.True(killed >= 3, $"only {killed} rounds were interrupted");
        AssertNoLeftovers(Path.Combine(n.HomeB, "inbox"));
        var (code, receipts, _) = await HaulProcess.RunAsync("--home", n.HomeA, "receipts", "--json");
        Assert.Equal(0, code);
        Assert.Contains("\"manifest", receipts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncKilledAtRandomMoments_EndsIdentical_WithNoPartialFolderLeft()
    {
        using var tmp = new TempDir();
        var n = Pair(tmp);
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        for (int i = 0; i < 1500; i++)
        {
            Trees.WriteRandom(Path.Combine(src, $"d{i / 300}", $"f{i:0000}.bin"), 10_240, 1000 + i);
        }

        Directory.CreateDirectory(dst);
        using (var b = HaulNode.Open(n.HomeB))
        {
            b.Store.SetFolder("incoming", dst);
            b.Store.SetShare("incoming", b.Store.FindPeer("lab-a")!.Id, Haul.State.ShareAccess.ReadWrite);
        }

        await KillLoopAsync(n, 5, 1802, src, dst, ["--home", n.HomeA, "sync", src, "lab-b:incoming", "--bwlimit", "4M", "-q"]);

        AssertNoLeftovers(dst);
    }

    [Fact]
    public async Task ASendIntoAReadOnlyTarget_SaysSo_AndLandsWholeOnceWritable()
    {
        if (!IsRoot)
        {
            return; // needs mount(8); CI runs as root
        }

        using var tmp = new TempDir();
        var n = Pair(tmp);
        string mnt = tmp.Sub("mnt");
        Directory.CreateDirectory(mnt);
        Run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", mnt);
        try
        {
            using var serve = await ServeAsync(n, "--inbox", mnt);
            string src = tmp.Sub("src/ro");
            Trees.WriteRandom(Path.Combine(src, "x.bin"), 1_000_000, 5);
            Run("mount", "-o", "remount,ro", mnt);

            var (code, _, err) = await HaulProcess.RunAsync("--home", n.HomeA, "send", src, "lab-b");

            Assert.Equal((int)ErrorCode.PermissionDenied, code);
            Assert.Contains("read-only file system", err, StringComparison.Ordinal);
            Assert.Single(err.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            Run("mount", "-o", "remount,rw", mnt);
            (code, _, err) = await HaulProcess.RunAsync("--home", n.HomeA, "send", src, "lab-b");
            Assert.True(code == 0, err);
            Trees.AssertSame(src, Path.Combine(mnt, "lab-a", "ro"));
        }
        finally
        {
            Run("umount", "-l", mnt);
        }
    }

    [Fact]
    public async Task ALocalSyncIntoAReadOnlyTarget_SaysSo_AndLeavesNothing()
    {
        if (!IsRoot)
        {
            return; // needs mount(8); CI runs as root
        }

        using var tmp = new TempDir();
        string mnt = tmp.Sub("mnt"), src = tmp.Sub("src");
        Directory.CreateDirectory(mnt);
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 100_000, 3);
        Run("mount", "-t", "tmpfs", "-o", "size=8m,ro", "tmpfs", mnt);
        try
        {
            var (code, _, err) = await HaulProcess.RunAsync("--home", tmp.Sub("home"), "sync", src, mnt);

            Assert.Equal((int)ErrorCode.PermissionDenied, code);
            Assert.Contains("read-only file system", err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(mnt));
        }
        finally
        {
            Run("umount", "-l", mnt);
        }
    }

    [Fact]
    public async Task ALocalSyncOntoAFullDisk_StopsAtTheFirstFullWrite_WithOneLine()
    {
        if (!IsRoot)
        {
            return; // needs mount(8); CI runs as root
        }

        using var tmp = new TempDir();
        string mnt = tmp.Sub("mnt"), src = tmp.Sub("src");
        Directory.CreateDirectory(mnt);
        for (int i = 0; i < 40; i++)
        {
            Trees.WriteRandom(Path.Combine(src, $"f{i:00}.bin"), 300_000, 50 + i);
        }

        Run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt);
        try
        {
            var (code, _, err) = await HaulProcess.RunAsync("--home", tmp.Sub("home"), "sync", src, mnt, "--transfers", "1");

            Assert.Equal((int)ErrorCode.DiskFull, code);
            Assert.Single(err.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            Assert.DoesNotContain(Directory.EnumerateFiles(mnt), f => Path.GetFileName(f).StartsWith(".haul-tmp-", StringComparison.Ordinal));
            foreach (var f in Directory.EnumerateFiles(mnt))
            {
                Assert.True(Trees.SameBytes(Path.Combine(src, Path.GetFileName(f)), f), f);
            }
        }
        finally
        {
            Run("umount", "-l", mnt);
        }
    }

    [Fact]
    public async Task APeerSyncIntoAFullFolder_IsDiskFull_WithOneLine_AndDeletesNothing()
    {
        if (!IsRoot)
        {
            return; // needs mount(8); CI runs as root
        }

        using var tmp = new TempDir();
        var n = Pair(tmp);
        string mnt = tmp.Sub("mnt"), src = tmp.Sub("src");
        Directory.CreateDirectory(mnt);
        for (int i = 0; i < 20; i++)
        {
            Trees.WriteRandom(Path.Combine(src, $"f{i:00}.bin"), 1_000_000, 70 + i);
        }

        Run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt);
        try
        {
            File.WriteAllText(Path.Combine(mnt, "keep.txt"), "extra");
            using (var b = HaulNode.Open(n.HomeB))
            {
                b.Store.SetFolder("small", mnt);
                b.Store.SetShare("small", b.Store.FindPeer("lab-a")!.Id, Haul.State.ShareAccess.ReadWrite);
            }

            using var serve = await ServeAsync(n);
            var (code, _, err) = await HaulProcess.RunAsync("--home", n.HomeA, "sync", src, "lab-b:small");

            Assert.Equal((int)ErrorCode.DiskFull, code);
            Assert.Single(err.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(mnt, "keep.txt")), "nothing is deleted after a failed copy");
        }
        finally
        {
            Run("umount", "-l", mnt);
        }
    }

    [Fact]
    public async Task TheLinkCutForSeconds_LosesNothing_AndTheSameSendFinishes()
    {
        if (!IsRoot || !HasNft)
        {
            return; // needs nftables and root; test.sh installs nftables and CI runs as root
        }

        using var tmp = new TempDir();
        var n = Pair(tmp);
        using var serve = await ServeAsync(n);
        string src = tmp.Sub("src/cut");
        Trees.WriteRandom(Path.Combine(src, "w.bin"), 40_000_000, 7);
        string table = $"haulcut{n.Port}";
        using var send = HaulProcess.Start("--home", n.HomeA, "send", src, "lab-b", "--json", "--max-rate", "10M");
        await Task.Delay(1200);
        Run("nft", "add", "table", "inet", table);
        try
        {
            Run("nft", "add", "chain", "inet", table, "in", "{ type filter hook input priority -10; }");
            foreach (var proto in new[] { "tcp", "udp" })
            {
                Run("nft", "add", "rule", "inet", table, "in", "iif", "lo", proto, "dport", $"{n.Port}", "drop");
                Run("nft", "add", "rule", "inet", table, "in", "iif", "lo", proto, "sport", $"{n.Port}", "drop");
            }

            await Task.Delay(4000);
            AssertPlacedFilesWhole(src, Path.Combine(n.HomeB, "inbox", "lab-a", "cut"));
        }
        finally
        {
            Run("nft", "delete", "table", "inet", table);
        }

        int code = await send.WaitAsync(TimeSpan.FromMinutes(2));
        if (code != 0)
        {
            // Cut off for longer than it waits: it must say so and a second run must finish.
            Assert.Equal((int)ErrorCode.PeerWentAway, code);
            var again = await HaulProcess.RunAsync("--home", n.HomeA, "send", src, "lab-b");
            Assert.True(again.Code == 0, again.Err);
        }

        Trees.AssertSame(src, Path.Combine(n.HomeB, "inbox", "lab-a", "cut"));
        AssertNoLeftovers(Path.Combine(n.HomeB, "inbox"));
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static bool HasNft => File.Exists("/usr/sbin/nft") || File.Exists("/sbin/nft");

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {err}");
    }
}
