using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>
/// A crash (SIGKILL from inside, HAUL_CRASH_AT) at each named place of the journal and placement
/// order, then a restart and the same send: identical tree, nothing temporary left, and a receipt
/// only once the tree is on disk.
/// </summary>
[Collection("nodes")]
public sealed class CrashPointTests
{
    public static TheoryData<string, bool> Points() => new()
    {
        { "chunk-written:3", true },
        // The first journal write: the writer journals what it drained in one go, and when chunks arrive
        // faster than it writes (a busy machine) that can be all of them, so a second write may never come.
        { "chunk-journaled", true },
        { "file-synced:5", true },
        { "file-placed:7", true },
        { "tree-placed", true },
        { "receipt-signed", true },
        { "receipt-verified", false },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public async Task ACrashAtEachPlaceOfJournalAndPlacement_LosesNothing_AndTheSameSendCompletes(string point, bool onReceiver)
    {
        using var tmp = new TempDir();
        string homeA = tmp.Sub("a"), homeB = tmp.Sub("b");
        int port = HaulProcess.FreePort();
        using (var a = HaulNode.Init(homeA, "lab-a"))
        using (var b = HaulNode.Init(homeB, "lab-b"))
        {
            a.Store.AddPeer(b.Identity.Id, "lab-b", $"127.0.0.1:{port}");
            b.Store.AddPeer(a.Identity.Id, "lab-a", null);
        }

        string src = Trees.Mixed(tmp.Sub("src"), "ds", files: 30, maxSize: 200_000);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 6_000_000, 9);
        string dst = Path.Combine(homeB, "inbox", "lab-a", "ds");
        var crash = new Dictionary<string, string?> { ["HAUL_CRASH_AT"] = point };
        string[] serveArgs = ["--home", homeB, "serve", "--listen", $"127.0.0.1:{port}", "--api", "off"];
        string[] sendArgs = ["--home", homeA, "send", src, "lab-b", "--tcp"];

        using (var serve = HaulProcess.Start(onReceiver ? crash : null, serveArgs))
        {
            await WaitServing(serve);
            using var send = HaulProcess.Start(onReceiver ? null : crash, sendArgs);
            int code = await send.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.NotEqual(0, code);
            if (onReceiver)
            {
                await serve.WaitAsync(TimeSpan.FromSeconds(20));
                Assert.Contains("[crash point]", serve.Stderr, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("[crash point]", send.Stderr, StringComparison.Ordinal);
            }
        }

        // A file at its final path is whole; no receipt is held for a tree that is not all there.
        foreach (var f in Directory.Exists(dst) ? Directory.EnumerateFiles(dst, "*", SearchOption.AllDirectories) : [])
        {
            string rel = Path.GetRelativePath(dst, f);
            Assert.True(File.Exists(Path.Combine(src, rel)) && Trees.SameBytes(Path.Combine(src, rel), f), $"torn file at its final path: {rel}");
        }

        var (_, receipts, _) = await HaulProcess.RunAsync("--home", homeA, "receipts", "--json");
        Assert.DoesNotContain("\"manifest", receipts, StringComparison.Ordinal);

        using (var serve = HaulProcess.Start(serveArgs))
        {
            await WaitServing(serve);
            var (code, _, err) = await HaulProcess.RunAsync(sendArgs);
            Assert.True(code == 0, err);
        }

        Trees.AssertSame(src, dst);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(homeB, "inbox"), ".haul-partial", SearchOption.AllDirectories));
        (_, receipts, _) = await HaulProcess.RunAsync("--home", homeA, "receipts", "--json");
        Assert.Contains("\"manifest", receipts, StringComparison.Ordinal);
    }

    private static async Task WaitServing(HaulProcess serve)
    {
        for (int i = 0; i < 200 && !serve.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains("serving on", serve.Stderr, StringComparison.Ordinal);
    }
}
