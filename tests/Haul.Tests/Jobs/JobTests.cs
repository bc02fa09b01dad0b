using System.Text.Json;
using Haul.Tests.Support;

namespace Haul.Tests.Jobs;

/// <summary>Jobs through the real binary: saved by the CLI, run by a real 'haul serve', surviving its restart.</summary>
[Collection("nodes")]
public sealed class JobTests
{
    private static async Task<(int Code, string Out, string Err)> Run(string home, params string[] args) => await HaulProcess.RunAsync(["--home", home, .. args]);

    private static async Task<HaulProcess> Serve(string home)
    {
        var p = HaulProcess.Start("--home", home, "serve", "--listen", $"127.0.0.1:{HaulProcess.FreePort()}");
        for (int i = 0; i < 200 && !p.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        return p;
    }

    private static async Task Eventually(Func<bool> condition, string what, int seconds = 20)
    {
        for (int i = 0; i < seconds * 10; i++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"not within {seconds} s: {what}");
    }

    private static JsonElement Job(string stdout, string name) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).Single(j => j.GetProperty("name").GetString() == name);

    [Fact]
    public async Task ScheduledAndWatchedJobs_RunInTheNode_AndRecordTheirResults()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        Assert.Equal(0, (await Run(home, "init", "--name", "edge")).Code);
        Trees.WriteRandom(tmp.Sub("cams/c1.bin"), 1000, 1);
        Trees.WriteRandom(tmp.Sub("data/d1.bin"), 1000, 2);
        Assert.Equal(0, (await Run(home, "job", "add", "tick", "--every", "2s", "--", "sync", tmp.Sub("data"), tmp.Sub("mirror"))).Code);
        Assert.Equal(0, (await Run(home, "job", "add", "cams", "--watch", tmp.Sub("cams"), "--", "copy", tmp.Sub("cams"), tmp.Sub("cams-copy"))).Code);

        using (var serve = await Serve(home))
        {
            await Eventually(() => File.Exists(tmp.Sub("mirror/d1.bin")), "the interval job ran");
            Trees.WriteRandom(tmp.Sub("cams/c2.bin"), 1000, 3);
            await Eventually(() => File.Exists(tmp.Sub("cams-copy/c2.bin")), "the watch job ran after a change");
            // The console logger writes from its own queue: the line can trail the copy it announced.
            await Eventually(() => serve.Stderr.Contains("job 'cams' started (change)", StringComparison.Ordinal), "the watch job logged its trigger");

            var list = await Run(home, "job", "list", "--json");
            Assert.Equal(0, Job(list.Out, "tick").GetProperty("lastExitCode").GetInt32());
            Assert.StartsWith("sync: ", Job(list.Out, "tick").GetProperty("lastMessage").GetString(), StringComparison.Ordinal);

            // Paused: a change in the source is not mirrored.
            Assert.Equal(0, (await Run(home, "job", "pause", "tick")).Code);
            await Task.Delay(3000); // a run already under way may still finish
            Trees.WriteRandom(tmp.Sub("data/d2.bin"), 1000, 4);
            await Task.Delay(4500);
            Assert.False(File.Exists(tmp.Sub("mirror/d2.bin")), "a paused job must not run");
            serve.Kill9();
        }

        // The jobs outlive the node: after a restart, resumed, it runs again.
        Assert.Equal(0, (await Run(home, "job", "resume", "tick")).Code);
        using (var again = await Serve(home))
        {
            await Eventually(() => File.Exists(tmp.Sub("mirror/d2.bin")), "the resumed job ran after a restart");
            again.Kill9();
        }

        var history = await Run(home, "job", "history", "tick", "--json");
        var runs = history.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(runs.Count >= 2);
        Assert.All(runs.Where(r => r.GetProperty("exitCode").ValueKind == JsonValueKind.Number), r => Assert.Equal(0, r.GetProperty("exitCode").GetInt32()));
    }

    [Fact]
    public async Task RunNow_Remove_AndBadJobs()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        Trees.WriteRandom(tmp.Sub("src/a.bin"), 100, 1);
        Assert.Equal(0, (await Run(home, "job", "add", "nightly", "--every", "0 2 * * *", "--", "sync", tmp.Sub("src"), tmp.Sub("dst"))).Code);
        var run = await Run(home, "job", "run", "nightly");
        Assert.Equal(0, run.Code);
        Assert.True(File.Exists(tmp.Sub("dst/a.bin")));

        var failing = await Run(home, "job", "add", "broken", "--every", "1h", "--", "sync", tmp.Sub("nope"), tmp.Sub("dst"));
        Assert.Equal(0, failing.Code);
        var failed = await Run(home, "job", "run", "broken");
        Assert.Equal((int)ErrorCode.PathNotFound, failed.Code);
        Assert.Contains("source not found", failed.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(tmp.Sub("dst/a.bin")), "a failed job deletes nothing");

        Assert.Equal((int)ErrorCode.Usage, (await Run(home, "job", "add", "nightly", "--every", "1h", "--", "sync", "a", "b")).Code);
        Assert.Equal((int)ErrorCode.Usage, (await Run(home, "job", "add", "x", "--every", "61 * * * *", "--", "sync", "a", "b")).Code);
        Assert.Equal((int)ErrorCode.Usage, (await Run(home, "job", "add", "y", "--every", "1h", "--", "rm", "-rf", "/")).Code);
        Assert.Equal((int)ErrorCode.PathNotFound, (await Run(home, "job", "add", "z", "--watch", tmp.Sub("missing"), "--", "sync", "a", "b")).Code);

        // A response file read local files into the job (the API token came back in the error text).
        File.WriteAllText(tmp.Sub("secret.txt"), "TOP-SECRET-TOKEN\n");
        var leak = await Run(home, "job", "add", "leak", "--every", "1h", "--", "sync", "a", "b", "@" + tmp.Sub("secret.txt"));
        Assert.Equal((int)ErrorCode.Usage, leak.Code);
        Assert.DoesNotContain("TOP-SECRET-TOKEN", leak.Err + leak.Out, StringComparison.Ordinal);
        Assert.Equal((int)ErrorCode.Usage, (await Run(home, "job", "add", "other", "--every", "1h", "--", "sync", "a", "b", "--home", tmp.Sub("other"))).Code);
        Assert.Equal(0, (await Run(home, "job", "remove", "nightly")).Code);
        Assert.Equal((int)ErrorCode.Usage, (await Run(home, "job", "run", "nightly")).Code);
    }
}
