using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Haul.Tests.Support;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Haul.Tests.Api;

/// <summary>
/// The REST API of a real 'haul serve' (the CLI binary, Kestrel on a real socket), driving real
/// transfers between two real nodes.
/// </summary>
[Collection("nodes")]
public sealed class ApiTests
{
    private sealed class Nodes : IAsyncDisposable
    {
        public required TempDir Tmp { get; init; }

        public required string HomeA { get; init; }

        public required string HomeB { get; init; }

        public required HaulProcess ServeA { get; init; }

        public required HaulProcess ServeB { get; init; }

        public required HttpClient Api { get; init; }

        public required string Token { get; init; }

        public required int ApiPort { get; init; }

        public async ValueTask DisposeAsync()
        {
            Api.Dispose();
            ServeA.Dispose();
            ServeB.Dispose();
            await Task.Yield();
            Tmp.Dispose();
        }
    }

    private static async Task<string> Cli(string home, params string[] args)
    {
        var (code, stdout, err) = await HaulProcess.RunAsync(["--home", home, .. args]);
        Assert.True(code == 0, $"haul {string.Join(' ', args)} exited {code}: {err}");
        return stdout.Trim();
    }

    private static async Task<HaulProcess> Serve(string home, params string[] args)
    {
        var p = HaulProcess.Start(["--home", home, "serve", .. args]);
        for (int i = 0; i < 300 && !p.Stderr.Contains("REST API on", StringComparison.Ordinal) && !p.HasExited; i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains("REST API on", p.Stderr, StringComparison.Ordinal);
        return p;
    }

    /// <summary>Two paired nodes, both serving; A's API on a known port, with a client holding A's token.</summary>
    private static async Task<Nodes> StartAsync()
    {
        var tmp = new TempDir();
        string a = tmp.Sub("a"), b = tmp.Sub("b");
        string idA = await Cli(a, "init", "--name", "lab-a");
        string idB = await Cli(b, "init", "--name", "lab-b");
        int portB = HaulProcess.FreePort();
        await Cli(a, "peer", "add", idB, $"127.0.0.1:{portB}", "--name", "lab-b");
        await Cli(b, "peer", "add", idA, "--name", "lab-a");
        int apiPort = HaulProcess.FreePort();
        var serveA = await Serve(a, "--listen", $"127.0.0.1:{HaulProcess.FreePort()}", "--api", $"127.0.0.1:{apiPort}");
        var serveB = await Serve(b, "--listen", $"127.0.0.1:{portB}");
        string token = await Cli(a, "token", "show");
        var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}") };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new Nodes { Tmp = tmp, HomeA = a, HomeB = b, ServeA = serveA, ServeB = serveB, Api = api, Token = token, ApiPort = apiPort };
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Body(HttpResponseMessage r) => JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();

    private static async Task<JsonElement> WaitForState(HttpClient api, string id, string state, int seconds = 60)
    {
        JsonElement t = default;
        for (int i = 0; i < seconds * 10; i++)
        {
            t = await Body(await api.GetAsync($"/api/v1/transfers/{id}"));
            if (t.GetProperty("state").GetString() == state)
            {
                return t;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"transfer {id} never reached {state}: {t}");
        return t;
    }

    [Fact]
    public async Task Transfer_StartedOverHttp_MovesBetweenTwoNodes_WithLiveProgress_IdempotentlyAndWithAReceipt()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("src/weights");
        Trees.WriteRandom(Path.Combine(src, "w.bin"), 30_000_000, 1);
        Trees.WriteRandom(Path.Combine(src, "cfg.json"), 2_000, 2);

        // Live progress: subscribe before starting, read the event stream while the transfer runs.
        await using var events = await EventRecorder.StartAsync(n.Api, TimeSpan.FromSeconds(90));

        string body = $$"""{"kind":"send","peer":"lab-b","path":"{{src}}","maxRate":"40M"}""";
        using var first = new HttpRequestMessage(HttpMethod.Post, "/api/v1/transfers") { Content = Json(body) };
        first.Headers.Add("Idempotency-Key", "job-42");
        var r1 = await n.Api.SendAsync(first);
        Assert.Equal(HttpStatusCode.Created, r1.StatusCode);
        string id = (await Body(r1)).GetProperty("id").GetString()!;

        // A retried POST with the same key returns the same transfer and starts nothing new.
        using var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/transfers") { Content = Json(body) };
        retry.Headers.Add("Idempotency-Key", "job-42");
        var r2 = await n.Api.SendAsync(retry);
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
        Assert.Equal(id, (await Body(r2)).GetProperty("id").GetString());

        var done = await WaitForState(n.Api, id, "done");
        await events.Reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(100, done.GetProperty("percent").GetDouble());
        Assert.Equal(30_002_000, done.GetProperty("bytesTotal").GetInt64());
        Assert.Single((await Body(await n.Api.GetAsync("/api/v1/transfers"))).EnumerateArray());
        Trees.AssertSame(src, Path.Combine(n.HomeB, "inbox", "lab-a", "weights"));

        var mine = events.Of(id).Select(x => x.E).ToList();
        Assert.Contains(mine, e => e.GetProperty("state").GetString() == "running" && e.GetProperty("percent").GetDouble() is > 0 and < 100);
        Assert.Equal("done", mine[^1].GetProperty("state").GetString());

        var receipts = await Body(await n.Api.GetAsync("/api/v1/receipts"));
        Assert.Contains(receipts.EnumerateArray(), r => r.GetProperty("manifestHash").GetString() == done.GetProperty("manifestHash").GetString() && r.GetProperty("peer").GetString() == "lab-b");

        string metrics = await n.Api.GetStringAsync("/metrics");
        var sent = metrics.Split('\n').Single(l => l.StartsWith("haul_bytes_sent_bytes_total ", StringComparison.Ordinal));
        Assert.True(double.Parse(sent.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 30_000_000, sent);
        Assert.Contains("haul_transfers_total{direction=\"out\",outcome=\"done\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE haul_rtt_seconds gauge", metrics, StringComparison.Ordinal);

        // The CLI reads the same resources through the API.
        string listed = await Cli(n.HomeA, "transfers", "--json");
        Assert.Equal(id, JsonDocument.Parse(listed.Split('\n')[0]).RootElement.GetProperty("id").GetString());
        string status = await Cli(n.HomeA, "status");
        Assert.Contains("lab-a", status, StringComparison.Ordinal);
        Assert.Contains($"http://127.0.0.1:{n.ApiPort}", status, StringComparison.Ordinal);

        var openapi = await Body(await n.Api.GetAsync("/openapi.json"));
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/api/v1/transfers", out _));
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/api/v1/transfers/{id}/cancel", out _));
    }

    [Fact]
    public async Task Transfer_PausedAndResumed_FinishesWithoutResendingWhatArrived_AndCancelStopsIt()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("src/run");
        Trees.WriteRandom(Path.Combine(src, "frames.bin"), 60_000_000, 3);
        var r = await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"peer":"lab-b","path":"{{src}}","maxRate":"10M"}"""));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        string id = (await Body(r)).GetProperty("id").GetString()!;
        for (int i = 0; i < 300 && (await Body(await n.Api.GetAsync($"/api/v1/transfers/{id}"))).GetProperty("percent").GetDouble() < 20; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal("paused", (await Body(await n.Api.PostAsync($"/api/v1/transfers/{id}/pause", null))).GetProperty("state").GetString());
        await WaitForState(n.Api, id, "paused");
        var resumed = await n.Api.PostAsync($"/api/v1/transfers/{id}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        var done = await WaitForState(n.Api, id, "done");
        Assert.True(done.GetProperty("reusedBytes").GetInt64() >= 10_000_000, $"resumed from the journal: {done}");
        Trees.AssertSame(src, Path.Combine(n.HomeB, "inbox", "lab-a", "run"));

        // A done transfer cannot be cancelled; a running one can, and lands nothing at the final path.
        var late = await n.Api.PostAsync($"/api/v1/transfers/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.BadRequest, late.StatusCode);
        string other = n.Tmp.Sub("src/other");
        Trees.WriteRandom(Path.Combine(other, "big.bin"), 60_000_000, 4);
        string id2 = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"peer":"lab-b","path":"{{other}}","maxRate":"10M"}""")))).GetProperty("id").GetString()!;
        await WaitForState(n.Api, id2, "running");
        await Task.Delay(500);
        await Cli(n.HomeA, "transfer", "cancel", id2);
        await WaitForState(n.Api, id2, "cancelled");
        Assert.False(File.Exists(Path.Combine(n.HomeB, "inbox", "lab-a", "other", "big.bin")));
    }

    [Fact]
    public async Task Requests_WithoutOrWithAWrongToken_CrossOrigin_OrMalformed_AreRefusedWithProblemDetails_AndChangeNothing()
    {
        await using var n = await StartAsync();
        using var anon = new HttpClient { BaseAddress = n.Api.BaseAddress };

        var none = await anon.GetAsync("/api/v1/node");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        var p = await Body(none);
        Assert.Equal(17, p.GetProperty("code").GetInt32());
        Assert.Contains("haul token show", p.GetProperty("fix").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.GetAsync("/openapi.json")).StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/v1/peers") { Content = Json("""{"id":"x","name":"evil"}""") };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", n.Token + "x");
        var w = await anon.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, w.StatusCode);
        Assert.Contains("wrong", (await Body(w)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // CSRF: a page on another origin, even holding the token, is refused.
        using var csrf = new HttpRequestMessage(HttpMethod.Post, "/api/v1/transfers") { Content = Json("""{"peer":"lab-b","path":"/etc"}""") };
        csrf.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await n.Api.SendAsync(csrf)).StatusCode);

        // DNS rebinding: a Host that is not this listener.
        using var rebind = new HttpRequestMessage(HttpMethod.Get, "/api/v1/node");
        rebind.Headers.Host = $"evil.example:{n.ApiPort}";
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await n.Api.SendAsync(rebind)).StatusCode);

        var bad = await n.Api.PostAsync("/api/v1/transfers", Json("""{"peer":"lab-b","path": """));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("malformed JSON", (await Body(bad)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var type = await n.Api.PostAsync("/api/v1/transfers", Json("""{"peer":"lab-b","path":42}"""));
        Assert.Equal(HttpStatusCode.BadRequest, type.StatusCode);
        Assert.Contains("$.path", (await Body(type)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var range = await n.Api.PostAsync("/api/v1/peers/invite", Json("""{"ttlHours":-3}"""));
        Assert.Equal(HttpStatusCode.BadRequest, range.StatusCode);
        Assert.Equal(2, (await Body(range)).GetProperty("code").GetInt32());

        var rate = await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"peer":"lab-b","path":"{{n.Tmp.Path}}","maxRate":"fast"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, rate.StatusCode);

        var peer = await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"peer":"nobody","path":"{{n.Tmp.Path}}"}"""));
        Assert.Equal(HttpStatusCode.NotFound, peer.StatusCode);
        Assert.Equal("urn:haul:problem:unknown-peer", (await Body(peer)).GetProperty("type").GetString());

        var missing = await n.Api.PostAsync("/api/v1/transfers", Json("""{"peer":"lab-b","path":"/no/such/dir"}"""));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // Nothing changed.
        Assert.Empty((await Body(await n.Api.GetAsync("/api/v1/transfers"))).EnumerateArray());
        Assert.Single((await Body(await n.Api.GetAsync("/api/v1/peers"))).EnumerateArray());

        // Rotating the token locks the old one out at once, without a restart.
        await Cli(n.HomeA, "token", "rotate");
        Assert.Equal(HttpStatusCode.Unauthorized, (await n.Api.GetAsync("/api/v1/node")).StatusCode);
        Assert.Contains("lab-a", await Cli(n.HomeA, "status"), StringComparison.Ordinal);

        // Token file is private.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(n.HomeA, "api.token")));
    }

    [Fact]
    public async Task FoldersAndJobs_AreManagedOverHttp_AndAJobRunsNow()
    {
        await using var n = await StartAsync();
        string data = n.Tmp.Sub("data");
        Trees.WriteRandom(Path.Combine(data, "x.bin"), 5_000, 5);
        var f = await n.Api.PostAsync("/api/v1/folders", Json($$"""{"name":"datasets","path":"{{data}}","share":"lab-b:ro"}"""));
        Assert.Equal(HttpStatusCode.Created, f.StatusCode);
        var folders = await Body(await n.Api.GetAsync("/api/v1/folders"));
        var ds = folders.EnumerateArray().Single();
        Assert.Equal("lab-b", ds.GetProperty("shares")[0].GetProperty("peer").GetString());
        Assert.Equal("ro", ds.GetProperty("shares")[0].GetProperty("access").GetString());

        string mirror = n.Tmp.Sub("mirror");
        var j = await n.Api.PostAsync("/api/v1/jobs", Json($$"""{"name":"nightly","every":"0 2 * * *","command":["sync","{{data}}","{{mirror}}"]}"""));
        Assert.Equal(HttpStatusCode.Created, j.StatusCode);
        Assert.NotEqual(JsonValueKind.Null, (await Body(j)).GetProperty("nextRun").ValueKind);
        var badJob = await n.Api.PostAsync("/api/v1/jobs", Json("""{"name":"x","every":"0 2 * * *","command":["rm","-rf","/"]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badJob.StatusCode);

        // Hostile job bodies: a null in the command (was a 500 with no body), both a transfer and a
        // command (the transfer silently won), neither; each a 400 with the usage code, nothing saved.
        foreach (string hostile in new[]
        {
            $$"""{"name":"h1","every":"1h","command":["sync",null,"{{mirror}}"]}""",
            $$"""{"name":"h2","every":"1h","command":["sync","{{data}}","{{mirror}}"],"transfer":{"kind":"copy","path":"{{data}}","destination":"{{mirror}}"} }""",
            """{"name":"h3","every":"1h"}""",
        })
        {
            var refused = await n.Api.PostAsync("/api/v1/jobs", Json(hostile));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal((int)ErrorCode.Usage, (await Body(refused)).GetProperty("code").GetInt32());
        }

        // An option the kind does not take is refused, not ignored (a "dryRun" send really sent).
        foreach (string unused in new[]
        {
            $$"""{"kind":"send","peer":"lab-b","path":"{{data}}","dryRun":true}""",
            $$"""{"kind":"pull","peer":"lab-b","path":"datasets","destination":"{{mirror}}","exclude":["*.tmp"]}""",
            $$"""{"kind":"sync","path":"{{data}}","destination":"{{mirror}}","conflict":"path1"}""",
            $$"""{"kind":"copy","path":"{{data}}","destination":"{{mirror}}","deleteExcluded":true}""",
            $$"""{"kind":"check","path":"{{data}}","destination":"{{mirror}}","ignoreExisting":true}""",
            $$"""{"kind":"send","peer":"lab-b","path":"{{data}}","filter":["- *"]}""",
        })
        {
            var refused = await n.Api.PostAsync("/api/v1/transfers", Json(unused));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("does not take", (await Body(refused)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Flags that contradict each other are a 400 before anything runs, as on the command line.
        var both = await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"sync","path":"{{data}}","destination":"{{mirror}}","sizeOnly":true,"checksum":true}"""));
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Contains("contradict", (await Body(both)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // An unknown peer's name comes back bounded and printable, not as the caller sent it.
        var ghost = await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"send","path":"{{data}}","peer":"{{new string('p', 100_000)}}\u001b[2J"}""")));
        Assert.Equal((int)ErrorCode.UnknownPeer, ghost.GetProperty("code").GetInt32());
        Assert.True(ghost.GetProperty("detail").GetString()!.Length < 300);
        Assert.Single((await Body(await n.Api.GetAsync("/api/v1/jobs"))).EnumerateArray());

        var run = await Body(await n.Api.PostAsync("/api/v1/jobs/nightly/run", null));
        Assert.Equal(0, run.GetProperty("exitCode").GetInt32());
        Assert.True(File.Exists(Path.Combine(mirror, "x.bin")));
        var history = await Body(await n.Api.GetAsync("/api/v1/jobs/nightly/history"));
        Assert.Equal("api", history[0].GetProperty("trigger").GetString());
        Assert.True((await Body(await n.Api.PostAsync("/api/v1/jobs/nightly/pause", null))).GetProperty("paused").GetBoolean());
        Assert.Contains("haul_job_runs_total{outcome=\"ok\"} 1", await n.Api.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await n.Api.DeleteAsync("/api/v1/jobs/nightly")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await n.Api.GetAsync("/api/v1/nothing-here")).StatusCode);

        // A copy between two ends runs in the node with the CLI's semantics; a failing one reports the CLI's error.
        string copyTo = n.Tmp.Sub("copy2");
        string cid = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"copy","path":"{{data}}","destination":"{{copyTo}}"}""")))).GetProperty("id").GetString()!;
        await WaitForState(n.Api, cid, "done");
        Assert.True(File.Exists(Path.Combine(copyTo, "x.bin")));

        // rclone's flags travel in the body: a filter rule leaves x.bin out, and deleteExcluded removes it.
        File.WriteAllText(Path.Combine(copyTo, "x.tmp"), "extra");
        string did = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"sync","path":"{{data}}","destination":"{{copyTo}}","filter":["- x.bin"],"deleteExcluded":true,"sizeOnly":true}""")))).GetProperty("id").GetString()!;
        await WaitForState(n.Api, did, "done");
        Assert.False(File.Exists(Path.Combine(copyTo, "x.bin")), "an excluded file is deleted with deleteExcluded");
        Assert.False(File.Exists(Path.Combine(copyTo, "x.tmp")));
        string fid = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"sync","path":"{{data}}","destination":"nobody:f/x"}""")))).GetProperty("id").GetString()!;
        var failed = await WaitForState(n.Api, fid, "failed");
        Assert.Equal(10, failed.GetProperty("errorCode").GetInt32());
        Assert.Contains("nobody", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALocalSyncStartedOverHttp_RunsInTheNode_WithByteProgressEverySecond_AndNoChildProcess()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("sync-src"), dst = n.Tmp.Sub("sync-dst");
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 60_000_000, 5);
        for (int i = 0; i < 20; i++)
        {
            Trees.WriteRandom(Path.Combine(src, $"small/{i}.txt"), 1_000 + i, 10 + i);
        }

        await using var events = await EventRecorder.StartAsync(n.Api, TimeSpan.FromSeconds(90));

        // 20 MB/s: about three seconds for 60 MB.
        string id = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"sync","path":"{{src}}","destination":"{{dst}}","maxRate":"20M"}""")))).GetProperty("id").GetString()!;

        // While it runs, the serving node has no child process (it used to run 'haul sync' as one).
        int children = await MaxChildrenWhile(n.ServeA.Pid, events.Reading, TimeSpan.FromSeconds(60));
        await events.Reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, children);
        Trees.AssertSame(src, dst);
        AssertLiveByteProgress(events.Of(id), 60_000_000 + Enumerable.Range(0, 20).Sum(i => 1_000 + i), 60_000_000);
    }

    [Fact]
    public async Task AJobRun_RunsInTheNodeAsATransfer_WithByteProgressEverySecond_AndNoChildProcess()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("job-src"), dst = n.Tmp.Sub("job-dst");
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 60_000_000, 6);
        Trees.WriteRandom(Path.Combine(src, "skip.tmp"), 5_000, 7);

        // Added as a command line (as 'haul job add' takes it); it is stored as a typed spec.
        var added = await n.Api.PostAsync("/api/v1/jobs", Json($$"""{"name":"nightly","every":"24h","command":["sync","{{src}}","{{dst}}","--bwlimit","20M","--exclude","*.tmp"]}"""));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using (var store = new Haul.Jobs.JobStore(Haul.Node.HaulHome.DatabasePath(n.HomeA)))
        {
            var spec = store.Get("nightly").Spec!;
            Assert.Equal(Haul.Operations.TransferKind.Sync, spec.Kind);
            Assert.Equal("20M", spec.Sync!.BandwidthLimit);
            Assert.Equal(["*.tmp"], spec.Sync.Filter.Exclude);
        }

        await using var events = await EventRecorder.StartAsync(n.Api, TimeSpan.FromSeconds(90));
        var run = n.Api.PostAsync("/api/v1/jobs/nightly/run", null);
        int children = await MaxChildrenWhile(n.ServeA.Pid, events.Reading, TimeSpan.FromSeconds(60));
        var result = await Body(await run);
        Assert.Equal(0, children);
        Assert.Equal(0, result.GetProperty("exitCode").GetInt32());
        Assert.StartsWith("sync: 1 copied", result.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dst, "skip.tmp")), "the job's --exclude was not applied");
        Assert.Equal(File.ReadAllBytes(Path.Combine(src, "big.bin")), File.ReadAllBytes(Path.Combine(dst, "big.bin")));

        var mine = events.Of(null);
        Assert.All(mine, x => Assert.Equal("sync", x.E.GetProperty("kind").GetString()));
        AssertLiveByteProgress(mine, 60_000_000, 60_000_000);
        var history = await Body(await n.Api.GetAsync("/api/v1/jobs/nightly/history"));
        Assert.Equal(0, history[0].GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task ASyncStartedOverHttp_Pauses_Resumes_AndIsCancelled_LikeASend()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("p-src"), dst = n.Tmp.Sub("p-dst");
        for (int i = 0; i < 5; i++)
        {
            Trees.WriteRandom(Path.Combine(src, $"small-{i}.bin"), 100_000, 20 + i);
        }

        Trees.WriteRandom(Path.Combine(src, "big.bin"), 40_000_000, 30);

        // 8 MB/s: five seconds for the 40 MB file; paused once a few MB moved (the small files are in).
        string id = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"sync","path":"{{src}}","destination":"{{dst}}","maxRate":"8M"}""")))).GetProperty("id").GetString()!;
        for (int i = 0; i < 200 && (await Body(await n.Api.GetAsync($"/api/v1/transfers/{id}"))).GetProperty("bytesDone").GetInt64() < 4_000_000; i++)
        {
            await Task.Delay(50);
        }

        var paused = await Body(await n.Api.PostAsync($"/api/v1/transfers/{id}/pause", null));
        Assert.Equal("paused", paused.GetProperty("state").GetString());
        int landed = Directory.GetFiles(dst).Count(f => !Path.GetFileName(f).StartsWith(".haul-tmp-", StringComparison.Ordinal));
        Assert.InRange(landed, 1, 5);
        Assert.DoesNotContain(Directory.GetFiles(dst), f => Path.GetFileName(f).StartsWith(".haul-tmp-", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, (await n.Api.PostAsync($"/api/v1/transfers/{id}/resume", null)).StatusCode);
        var done = await WaitForState(n.Api, id, "done");
        Trees.AssertSame(src, dst);

        // The resumed run copied only what the paused one had not placed.
        Assert.Matches($"^sync: {6 - landed} copied", done.GetProperty("summary").GetString());

        // A bisync can be cancelled while it runs; nothing partial stays at a final path.
        string other = n.Tmp.Sub("p-other");
        Directory.CreateDirectory(other);
        string bid = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"bisync","path":"{{src}}","destination":"{{other}}"}""")))).GetProperty("id").GetString()!;
        var cancelled = await Body(await n.Api.PostAsync($"/api/v1/transfers/{bid}/cancel", null));
        Assert.Contains(cancelled.GetProperty("state").GetString(), new[] { "cancelled", "done" });
        Assert.DoesNotContain(Directory.GetFiles(other), f => Path.GetFileName(f).StartsWith(".haul-tmp-", StringComparison.Ordinal));
    }

    /// <summary>The most children <paramref name="pid"/> had at any 100 ms sample until <paramref name="until"/> ended.</summary>
    private static async Task<int> MaxChildrenWhile(int pid, Task until, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int children = 0;
        while (!until.IsCompleted && clock.Elapsed < limit)
        {
            children = Math.Max(children, ChildrenOf(pid));
            await Task.Delay(100);
        }

        return children;
    }

    /// <summary>A finished transfer whose running snapshots came at least every 1.5 s with a byte count that never fell and grew inside the copy.</summary>
    private static void AssertLiveByteProgress(List<(TimeSpan At, JsonElement E)> mine, long total, long big)
    {
        Assert.Equal("done", mine[^1].E.GetProperty("state").GetString());
        Assert.Equal(total, mine[^1].E.GetProperty("bytesDone").GetInt64());
        var running = mine.Where(x => x.E.GetProperty("state").GetString() == "running").ToList();
        var moving = running.Where(x => x.E.GetProperty("bytesDone").GetInt64() > 0 && x.E.GetProperty("bytesDone").GetInt64() < big).ToList();
        Assert.True(moving.Count >= 3, $"only {moving.Count} progress events inside the copy: {string.Join(", ", running.Select(x => x.E.GetProperty("bytesDone").GetInt64()))}");
        for (int i = 1; i < running.Count; i++)
        {
            Assert.True(running[i].At - running[i - 1].At < TimeSpan.FromSeconds(1.5), $"a gap of {(running[i].At - running[i - 1].At).TotalSeconds:0.0} s between progress events");
            Assert.True(running[i].E.GetProperty("bytesDone").GetInt64() >= running[i - 1].E.GetProperty("bytesDone").GetInt64());
        }

        Assert.True(moving[^1].E.GetProperty("bytesDone").GetInt64() > moving[0].E.GetProperty("bytesDone").GetInt64(), "the byte count did not grow");
        Assert.Contains(moving, x => x.E.GetProperty("etaSeconds").ValueKind == JsonValueKind.Number && x.E.GetProperty("etaSeconds").GetDouble() > 0);
        Assert.True(mine[^1].E.GetProperty("etaSeconds").ValueKind == JsonValueKind.Null, "a finished transfer has no ETA");
    }

    /// <summary>Processes whose parent is <paramref name="pid"/> (from /proc).</summary>
    private static int ChildrenOf(int pid)
    {
        int count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == pid)
                {
                    count++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
            }
        }

        return count;
    }

    [Fact]
    public async Task APullThroughTheApi_CopiesAPeersSharedFolder_InTheRunningNode()
    {
        await using var n = await StartAsync();
        string shared = n.Tmp.Sub("b-models");
        Trees.WriteRandom(Path.Combine(shared, "m/weights.bin"), 700_000, 3);
        Trees.WriteRandom(Path.Combine(shared, "config.json"), 300, 4);
        await Cli(n.HomeB, "folder", "add", "models", shared, "--share", "lab-a:ro");
        string into = n.Tmp.Sub("pulled");

        string id = (await Body(await n.Api.PostAsync("/api/v1/transfers", Json($$"""{"kind":"pull","peer":"lab-b","path":"models","destination":"{{into}}"}""")))).GetProperty("id").GetString()!;
        await WaitForState(n.Api, id, "done");
        Assert.Equal(File.ReadAllBytes(Path.Combine(shared, "m/weights.bin")), File.ReadAllBytes(Path.Combine(into, "m/weights.bin")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(shared, "config.json")), File.ReadAllBytes(Path.Combine(into, "config.json")));
    }

    [Fact]
    public async Task Status_WithNoNodeRunning_SaysSo_WithItsOwnExitCode()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("h");
        await Cli(home, "init", "--name", "solo");
        var (code, _, err) = await HaulProcess.RunAsync("--home", home, "status");
        Assert.Equal(26, code);
        Assert.Contains("haul serve", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mcp_OverStdio_ListsTools_SendsBetweenTwoNodes_AndReportsStatusUntilDone()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("src/ckpt");
        Trees.WriteRandom(Path.Combine(src, "model.bin"), 20_000_000, 6);

        var transport = new StdioClientTransport(new StdioClientTransportOptions { Name = "haul", Command = HaulProcess.Binary, Arguments = ["--home", n.HomeA, "mcp"] });
        await using var client = await McpClient.CreateAsync(transport);
        Assert.Equal("haul", client.ServerInfo?.Name);

        var tools = await client.ListToolsAsync();
        string[] expected = ["node_status", "list_peers", "send", "pull", "sync", "check", "bisync", "list_transfers", "transfer_status", "cancel_transfer", "list_jobs", "schedule_job", "run_job", "list_receipts"];
        Assert.Empty(expected.Except(tools.Select(t => t.Name)));
        Assert.All(tools, t => Assert.False(string.IsNullOrWhiteSpace(t.Description), t.Name));
        var send = tools.Single(t => t.Name == "send");
        var schema = send.JsonSchema;
        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.Equal(["path", "peer"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()!).Order());
        Assert.True(schema.GetProperty("properties").GetProperty("maxRate").TryGetProperty("description", out _));

        static string Text(CallToolResult r) => string.Concat(r.Content.OfType<TextContentBlock>().Select(c => c.Text));

        var status = await client.CallToolAsync("node_status", new Dictionary<string, object?>());
        Assert.NotEqual(true, status.IsError);
        Assert.Equal("lab-a", JsonDocument.Parse(Text(status)).RootElement.GetProperty("name").GetString());

        var started = await client.CallToolAsync("send", new Dictionary<string, object?> { ["path"] = src, ["peer"] = "lab-b" });
        Assert.NotEqual(true, started.IsError);
        string id = JsonDocument.Parse(Text(started)).RootElement.GetProperty("id").GetString()!;
        string state = "";
        for (int i = 0; i < 600 && state != "done"; i++)
        {
            var st = await client.CallToolAsync("transfer_status", new Dictionary<string, object?> { ["id"] = id });
            state = JsonDocument.Parse(Text(st)).RootElement.GetProperty("state").GetString()!;
            Assert.NotEqual("failed", state);
            await Task.Delay(100);
        }

        Assert.Equal("done", state);
        Trees.AssertSame(src, Path.Combine(n.HomeB, "inbox", "lab-a", "ckpt"));
        var receipts = await client.CallToolAsync("list_receipts", new Dictionary<string, object?>());
        Assert.Single(JsonDocument.Parse(Text(receipts)).RootElement.EnumerateArray());

        // check and bisync run in the node like every other kind: a check that finds differences fails
        // with their count (exit code 22); a bisync makes both sides hold both sides' files.
        async Task<JsonElement> Finish(CallToolResult r)
        {
            Assert.NotEqual(true, r.IsError);
            string tid = JsonDocument.Parse(Text(r)).RootElement.GetProperty("id").GetString()!;
            for (int i = 0; i < 600; i++)
            {
                var st = JsonDocument.Parse(Text(await client.CallToolAsync("transfer_status", new Dictionary<string, object?> { ["id"] = tid }))).RootElement;
                if (st.GetProperty("state").GetString() is "done" or "failed")
                {
                    return st;
                }

                await Task.Delay(100);
            }

            throw new TimeoutException(tid);
        }

        string left = n.Tmp.Sub("left"), right = n.Tmp.Sub("right");
        Trees.WriteRandom(Path.Combine(left, "l.bin"), 10_000, 1);
        Trees.WriteRandom(Path.Combine(right, "r.bin"), 20_000, 2);
        var checkedEnd = await Finish(await client.CallToolAsync("check", new Dictionary<string, object?> { ["source"] = left, ["destination"] = right }));
        Assert.Equal(("failed", 22), (checkedEnd.GetProperty("state").GetString(), checkedEnd.GetProperty("errorCode").GetInt32()));
        Assert.Contains("2 differences", checkedEnd.GetProperty("error").GetString(), StringComparison.Ordinal);
        var bisynced = await Finish(await client.CallToolAsync("bisync", new Dictionary<string, object?> { ["path1"] = left, ["path2"] = right }));
        Assert.Equal("done", bisynced.GetProperty("state").GetString());
        Assert.Equal(30_000, bisynced.GetProperty("bytesDone").GetInt64());
        Trees.AssertSame(left, right);
        var sameNow = await Finish(await client.CallToolAsync("check", new Dictionary<string, object?> { ["source"] = left, ["destination"] = right }));
        Assert.Equal("done", sameNow.GetProperty("state").GetString());

        // The sync tool takes rclone's filter rules: only l.bin goes, r.bin is left out.
        string filtered = n.Tmp.Sub("filtered");
        var synced = await Finish(await client.CallToolAsync("sync", new Dictionary<string, object?> { ["source"] = left, ["destination"] = filtered, ["filter"] = new[] { "+ l.bin", "- *" }, ["sizeOnly"] = true }));
        Assert.Equal("done", synced.GetProperty("state").GetString());
        Assert.Equal(["l.bin"], SyncCli.Files(filtered));

        // A bad call comes back as a tool error the agent can read, with the fix.
        var bad = await client.CallToolAsync("send", new Dictionary<string, object?> { ["path"] = "/no/such/dir", ["peer"] = "lab-b" });
        Assert.True(bad.IsError);
        Assert.Contains("no such file or folder", Text(bad), StringComparison.Ordinal);
    }

    /// <summary>Where Debian puts chromium; the suite's test.sh installs it.</summary>
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Dashboard_InRealChromium_SignsIn_StartsATransfer_AndShowsItsProgressReach100()
    {
        Assert.True(File.Exists(Chromium), "chromium is not installed (test.sh installs it with apt-get install chromium)");
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("src/dataset");
        Trees.WriteRandom(Path.Combine(src, "part-0.bin"), 40_000_000, 7);
        Trees.WriteRandom(Path.Combine(src, "part-1.bin"), 20_000_000, 8);

        using var pw = await Playwright.CreateAsync();
        await using var browser = await pw.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var consoleErrors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                consoleErrors.Add(m.Text);
            }
        };
        string shots = Environment.GetEnvironmentVariable("HAUL_SCREENSHOTS") ?? n.Tmp.Sub("shots");
        Directory.CreateDirectory(shots);

        await page.GotoAsync($"http://127.0.0.1:{n.ApiPort}/");
        await page.FillAsync("#token", "not-the-token");
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("token was refused");

        await page.FillAsync("#token", n.Token);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#node-title")).ToContainTextAsync("lab-a");
        await Assertions.Expect(page.Locator("#send-peer option")).ToHaveTextAsync(["lab-b"]);

        await page.FillAsync("#send-path", src);
        await page.FillAsync("#send-rate", "25M");
        await page.ClickAsync("#send-form button");
        var bar = page.Locator("#transfers .bar b").First;
        await Assertions.Expect(page.Locator("#transfers td[data-state]").First).ToHaveTextAsync("running", new() { Timeout = 20_000 });
        await Assertions.Expect(bar).Not.ToHaveTextAsync("0%", new() { Timeout = 20_000 });
        await page.WaitForTimeoutAsync(1500);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "dashboard-running.png"), FullPage = true });

        await Assertions.Expect(bar).ToHaveTextAsync("100%", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#transfers td[data-state]").First).ToHaveTextAsync("done");
        Trees.AssertSame(src, Path.Combine(n.HomeB, "inbox", "lab-a", "dataset"));
        await Assertions.Expect(page.Locator("#receipts tr")).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "dashboard-done.png"), FullPage = true });

        // The session survives a reload (sessionStorage), and the token never appears in the URL.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#node-title")).ToContainTextAsync("lab-a");
        Assert.DoesNotContain(n.Token, page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(consoleErrors, e => !e.Contains("401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PythonClient_WithTheStandardLibrary_DrivesARealNode_AndTheExamplePipelinesCompile()
    {
        await using var n = await StartAsync();
        string src = n.Tmp.Sub("src/batch");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 3_000_000, 9);
        string examples = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples"));
        var env = new Dictionary<string, string?>
        {
            ["HAUL_API"] = $"http://127.0.0.1:{n.ApiPort}",
            ["HAUL_TOKEN"] = n.Token,
            ["SRC"] = src,
            ["PEER"] = "lab-b",
            ["COPY_TO"] = n.Tmp.Sub("copied"),
        };
        var (code, stdout, stderr) = await Run("python3", [Path.Combine(examples, "python", "check_client.py")], env);
        Assert.True(code == 0, stdout + stderr);
        Assert.StartsWith("ok t-", stdout.Trim(), StringComparison.Ordinal);
        Trees.AssertSame(src, Path.Combine(n.HomeB, "inbox", "lab-a", "batch"));
        Assert.True(File.Exists(Path.Combine(n.Tmp.Sub("copied"), "a.bin")));

        // Airflow and Prefect are not installed here: the pipeline files are checked to compile.
        var compiled = await Run("python3", ["-m", "py_compile", Path.Combine(examples, "airflow", "haul_sync_dag.py"), Path.Combine(examples, "prefect", "haul_flow.py")], new Dictionary<string, string?>());
        Assert.True(compiled.Code == 0, compiled.Err);
    }

    private static async Task<(int Code, string Out, string Err)> Run(string file, string[] args, Dictionary<string, string?> env)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await o, await e);
    }

    [Fact]
    public async Task Serve_ReadsItsConfigFile_FlagsWin_AndABadKeyIsAOneLineError()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("h");
        await Cli(home, "init", "--name", "cfg");
        int listen = HaulProcess.FreePort(), api = HaulProcess.FreePort();
        File.WriteAllText(Path.Combine(home, "haul.conf"), $"# test\nlisten = 127.0.0.1:{listen}\napi = 127.0.0.1:{api}\ninbox = {tmp.Sub("in")}\n");
        using (var serve = await Serve(home))
        {
            Assert.Contains($"tcp 127.0.0.1:{listen}", serve.Stderr, StringComparison.Ordinal);
            Assert.Contains($"http://127.0.0.1:{api}", serve.Stderr, StringComparison.Ordinal);
            Assert.Contains(tmp.Sub("in"), serve.Stderr, StringComparison.Ordinal);
        }

        int other = HaulProcess.FreePort();
        using (var serve = await Serve(home, "--api", $"127.0.0.1:{other}"))
        {
            Assert.Contains($"http://127.0.0.1:{other}", serve.Stderr, StringComparison.Ordinal);
        }

        string bad = Path.Combine(tmp.Path, "bad.conf");
        File.WriteAllText(bad, "listen = 127.0.0.1:0\napi-port = 9\n");
        var (code, _, err) = await HaulProcess.RunAsync("--home", home, "serve", "--config", bad);
        Assert.Equal(2, code);
        Assert.Contains("line 2: unknown key 'api-port'", err, StringComparison.Ordinal);

        // A non-loopback API needs the explicit flag.
        var (code2, _, err2) = await HaulProcess.RunAsync("--home", home, "serve", "--listen", $"127.0.0.1:{HaulProcess.FreePort()}", "--api", "0.0.0.0:0");
        Assert.Equal(2, code2);
        Assert.Contains("--api-allow-remote", err2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peers_AreAddedListedAndRemovedOverHttp_AndAnInviteIsJoinedThroughTheOtherNodesApi_AndARemoteApiWarns()
    {
        await using var n = await StartAsync();
        string c = n.Tmp.Sub("c");
        string idC = (await Cli(c, "init", "--name", "edge-c")).Trim();
        int apiC = HaulProcess.FreePort();
        using var serveC = await Serve(c, "--listen", $"127.0.0.1:{HaulProcess.FreePort()}", "--api", $"0.0.0.0:{apiC}", "--api-allow-remote");
        for (int i = 0; i < 100 && !serveC.Stderr.Contains("warn", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains("warn", serveC.Stderr, StringComparison.Ordinal);

        var add = await n.Api.PostAsync("/api/v1/peers", Json($$"""{"id":"{{idC}}","name":"edge-c","address":"127.0.0.1:9"}"""));
        Assert.Equal(HttpStatusCode.Created, add.StatusCode);
        var peers = await Body(await n.Api.GetAsync("/api/v1/peers"));
        Assert.Contains(peers.EnumerateArray(), p => p.GetProperty("name").GetString() == "edge-c" && p.GetProperty("address").GetString() == "127.0.0.1:9");
        Assert.Equal(HttpStatusCode.NoContent, (await n.Api.DeleteAsync("/api/v1/peers/edge-c")).StatusCode);
        Assert.DoesNotContain((await Body(await n.Api.GetAsync("/api/v1/peers"))).EnumerateArray(), p => p.GetProperty("name").GetString() == "edge-c");
        Assert.Equal(HttpStatusCode.NotFound, (await n.Api.DeleteAsync("/api/v1/peers/edge-c")).StatusCode);

        // A invites; C joins through its own API; afterwards each trusts the other.
        var invite = await Body(await n.Api.PostAsync("/api/v1/peers/invite", Json("{}")));
        string token = invite.GetProperty("token").GetString()!;
        using var c_api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiC}") };
        c_api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await Cli(c, "token", "show")).Trim());
        var joined = await c_api.PostAsync("/api/v1/peers/join", Json($$"""{"token":"{{token}}","name":"lab-a"}"""));
        Assert.True(joined.StatusCode == HttpStatusCode.OK, await joined.Content.ReadAsStringAsync());
        string idA = (await Body(await n.Api.GetAsync("/api/v1/node"))).GetProperty("id").GetString()!;
        Assert.Equal(idA, (await Body(joined)).GetProperty("id").GetString());
        Assert.Contains((await Body(await n.Api.GetAsync("/api/v1/peers"))).EnumerateArray(), p => p.GetProperty("id").GetString() == idC);

        // Invites are one-use: a fourth node with the same token is refused (with no invite left open,
        // A turns unknown nodes away at the TLS handshake) and nothing is added.
        string d = n.Tmp.Sub("d");
        await Cli(d, "init", "--name", "edge-d");
        var (code, _, err) = await HaulProcess.RunAsync("--home", d, "join", token);
        Assert.True(code == 18, err);
        Assert.Contains("does not trust this node", err, StringComparison.Ordinal);
        Assert.Equal(2, (await Body(await n.Api.GetAsync("/api/v1/peers"))).GetArrayLength());
    }
}
