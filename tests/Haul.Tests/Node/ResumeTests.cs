using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>Kill -9 either side mid-transfer with real processes, then run the same send again.</summary>
[Collection("nodes")]
public sealed class ResumeTests
{
    private const long Size = 96_000_000;

    private static (string HomeA, string HomeB, string Src, int Port) Setup(TempDir tmp)
    {
        string homeA = tmp.Sub("a"), homeB = tmp.Sub("b");
        int port = HaulProcess.FreePort();
        using (var a = HaulNode.Init(homeA, "lab-a"))
        using (var b = HaulNode.Init(homeB, "lab-b"))
        {
            a.Store.AddPeer(b.Identity.Id, "lab-b", $"127.0.0.1:{port}");
            b.Store.AddPeer(a.Identity.Id, "lab-a", null);
        }

        string src = tmp.Sub("src/run-17");
        Trees.WriteRandom(Path.Combine(src, "frames.bin"), Size, 21);
        Trees.WriteRandom(Path.Combine(src, "meta", "labels.bin"), 2_000_000, 22);
        return (homeA, homeB, src, port);
    }

    private static HaulProcess Serve(string home, int port) => HaulProcess.Start("--home", home, "serve", "--listen", $"127.0.0.1:{port}");

    private static async Task WaitListening(HaulProcess serve)
    {
        for (int i = 0; i < 200 && !serve.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains("serving on", serve.Stderr, StringComparison.Ordinal);
    }

    private static async Task WaitForProgress(HaulProcess send, double fraction)
    {
        for (int i = 0; i < 600; i++)
        {
            var last = send.JsonLines().LastOrDefault(j => j.GetProperty("type").GetString() == "progress" && j.GetProperty("phase").GetString() == "transfer");
            if (last.ValueKind != System.Text.Json.JsonValueKind.Undefined && last.GetProperty("bytes").GetInt64() >= fraction * last.GetProperty("totalBytes").GetInt64())
            {
                return;
            }

            Assert.False(send.HasExited, "send finished before it could be interrupted: " + send.Stderr);
            await Task.Delay(50);
        }

        Assert.Fail("no progress");
    }

    private static System.Text.Json.JsonElement Result(HaulProcess p) => p.JsonLines().Single(j => j.GetProperty("type").GetString() == "result");

    [Fact]
    public async Task KilledSender_ResumesWithoutResendingCompletedChunks()
    {
        using var tmp = new TempDir();
        var (homeA, homeB, src, port) = Setup(tmp);
        using var serve = Serve(homeB, port);
        await WaitListening(serve);

        using (var first = HaulProcess.Start("--home", homeA, "send", src, "lab-b", "--json", "--max-rate", "25M"))
        {
            await WaitForProgress(first, 0.4);
            first.Kill9();
        }

        string partial = Path.Combine(homeB, "inbox", "lab-a", "run-17");
        Assert.False(File.Exists(Path.Combine(partial, "frames.bin")), "a half-written file must not appear at its final path");

        using var second = HaulProcess.Start("--home", homeA, "send", src, "lab-b", "--json");
        Assert.Equal(0, await second.WaitAsync(TimeSpan.FromMinutes(2)));
        var result = Result(second);
        Assert.True(result.GetProperty("newChunkBytes").GetInt64() < 0.7 * Size, $"resent {result.GetProperty("newChunkBytes").GetInt64()} of {Size}");
        Trees.AssertSame(src, partial);
    }

    [Fact]
    public async Task KilledReceiver_ResumesWithoutResendingCompletedChunks()
    {
        using var tmp = new TempDir();
        var (homeA, homeB, src, port) = Setup(tmp);
        using (var serve = Serve(homeB, port))
        {
            await WaitListening(serve);
            using var first = HaulProcess.Start("--home", homeA, "send", src, "lab-b", "--json", "--max-rate", "25M");
            await WaitForProgress(first, 0.4);
            serve.Kill9();
            int code = await first.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal((int)ErrorCode.PeerWentAway, code);
            Assert.Contains("error:", first.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(homeB, "inbox", "lab-a", "run-17", "frames.bin")));
        using var again = Serve(homeB, port);
        await WaitListening(again);
        using var second = HaulProcess.Start("--home", homeA, "send", src, "lab-b", "--json");
        Assert.Equal(0, await second.WaitAsync(TimeSpan.FromMinutes(2)));
        var result = Result(second);
        Assert.True(result.GetProperty("newChunkBytes").GetInt64() < 0.7 * Size, $"resent {result.GetProperty("newChunkBytes").GetInt64()} of {Size}");
        Trees.AssertSame(src, Path.Combine(homeB, "inbox", "lab-a", "run-17"));
    }
}
