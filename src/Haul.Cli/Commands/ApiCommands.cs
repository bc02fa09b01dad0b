using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Haul.Cli.Api;
using Haul.Node;
using Haul.Security;

namespace Haul.Cli.Commands;

/// <summary>Commands that talk to the local running node over its REST API (status, transfers), and the API token.</summary>
internal static class ApiCommands
{
    public static Command Token()
    {
        var cmd = new Command("token", "The REST API's bearer token (HAUL_HOME/api.token, mode 0600)");
        var show = new Command("show", "Print the token, for scripts: curl -H \"Authorization: Bearer $(haul token show)\"");
        show.SetAction((pr, ct) => Cli.Guard(() =>
        {
            string home = Cli.HomeOf(pr);
            RequireNode(home);
            Console.Out.WriteLine(ApiToken.Ensure(home));
            return Task.FromResult(0);
        }));
        var rotate = new Command("rotate", "Replace the token; the old one stops working at once (a running node picks the new one up)");
        rotate.SetAction((pr, ct) => Cli.Guard(() =>
        {
            string home = Cli.HomeOf(pr);
            RequireNode(home);
            ApiToken.Rotate(home);
            Console.Error.WriteLine("API token replaced; 'haul token show' prints the new one");
            return Task.FromResult(0);
        }));
        cmd.Subcommands.Add(show);
        cmd.Subcommands.Add(rotate);
        return cmd;
    }

    public static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "The node resource as JSON" };
        var cmd = new Command("status", "Show whether the local node is running, its ID, addresses, peers and active transfers") { json };
        cmd.SetAction((pr, ct) => Cli.Guard(
            async () =>
            {
                string home = Cli.HomeOf(pr);
                using var client = Connect(home);
                using var doc = await client.GetAsync("/api/v1/node", ct).ConfigureAwait(false);
                var n = doc.RootElement;
                if (pr.GetValue(json))
                {
                    Console.Out.WriteLine(n.GetRawText());
                    return 0;
                }

                Console.Out.WriteLine($"node      {n.GetProperty("name").GetString()} ({n.GetProperty("id").GetString()})");
                Console.Out.WriteLine($"version   {n.GetProperty("version").GetString()}, up {TimeSpan.FromSeconds(n.GetProperty("uptimeSeconds").GetDouble()):d\\.hh\\:mm\\:ss}, health {n.GetProperty("health").GetString()}");
                Console.Out.WriteLine($"listening {n.GetProperty("listen").GetString()} (peers), http://{n.GetProperty("api").GetString()} (API)");
                Console.Out.WriteLine($"peers     {n.GetProperty("peers").GetInt32()}, active transfers {n.GetProperty("activeTransfers").GetInt32()}");
                return 0;
            },
            pr.GetValue(json)));
        return cmd;
    }

    public static Command Transfers()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var watch = new Option<bool>("--watch") { Description = "Keep printing progress as it happens (server-sent events) until interrupted" };
        var cmd = new Command("transfers", "List the transfers the local node runs, with progress") { json, watch };
        cmd.SetAction((pr, ct) => Cli.Guard(
            async () =>
            {
                string home = Cli.HomeOf(pr);
                using var client = Connect(home);
                bool asJson = pr.GetValue(json);
                if (!pr.GetValue(watch))
                {
                    using var doc = await client.GetAsync("/api/v1/transfers", ct).ConfigureAwait(false);
                    foreach (var t in doc.RootElement.EnumerateArray())
                    {
                        Console.Out.WriteLine(asJson ? t.GetRawText() : Line(t));
                    }

                    return 0;
                }

                try
                {
                    await foreach (var t in client.EventsAsync("/api/v1/events", ct).ConfigureAwait(false))
                    {
                        Console.Out.WriteLine(asJson ? t.GetRawText() : Line(t));
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                }

                return 0;
            },
            pr.GetValue(json)));
        return cmd;
    }

    public static Command Transfer()
    {
        var cmd = new Command("transfer", "Act on one transfer the local node runs");
        foreach (var (verb, help) in new[] { ("cancel", "Cancel it"), ("pause", "Pause it (verified chunks are kept)"), ("resume", "Resume it where it stopped") })
        {
            var id = new Argument<string>("id") { Description = "Transfer ID ('haul transfers' lists them)" };
            var sub = new Command(verb, help) { id };
            sub.SetAction((pr, ct) => Cli.Guard(async () =>
            {
                using var client = Connect(Cli.HomeOf(pr));
                using var doc = await client.PostAsync($"/api/v1/transfers/{Uri.EscapeDataString(pr.GetValue(id)!)}/{verb}", ct).ConfigureAwait(false);
                Console.Out.WriteLine(Line(doc.RootElement));
                return 0;
            }));
            cmd.Subcommands.Add(sub);
        }

        return cmd;
    }

    private static string Line(JsonElement t)
    {
        string state = t.GetProperty("state").GetString()!;
        double pct = t.GetProperty("percent").GetDouble();
        double rate = t.GetProperty("rateBytesPerSec").GetDouble();
        string err = t.GetProperty("error").ValueKind == JsonValueKind.String ? "  " + t.GetProperty("error").GetString() : string.Empty;
        string eta = t.TryGetProperty("etaSeconds", out var e) && e.ValueKind == JsonValueKind.Number ? $"ETA {Units.Duration(e.GetDouble())}  " : string.Empty;
        return $"{t.GetProperty("id").GetString(),-16} {t.GetProperty("kind").GetString(),-4} {t.GetProperty("peer").GetString(),-12} {state,-9} {pct,5:0.0}%  {Units.Bytes(t.GetProperty("bytesDone").GetInt64())}/{Units.Bytes(t.GetProperty("bytesTotal").GetInt64())}  {(rate > 0 ? Units.Bytes((long)rate) + "/s" : string.Empty)}  {eta}{t.GetProperty("path").GetString()}{err}";
    }

    private static void RequireNode(string home)
    {
        if (!NodeIdentity.Exists(home))
        {
            throw new HaulException(ErrorCode.NotInitialized, $"no node in {home}", "run 'haul init --name NAME' first");
        }
    }

    private static ApiClient Connect(string home)
    {
        RequireNode(home);
        using var node = HaulNode.Open(home);
        string? api = node.Store.GetMeta("api");
        if (api is null)
        {
            throw new HaulException(ErrorCode.NodeNotRunning, "the node has never served its API", "start it with 'haul serve' (one-shot commands like 'haul send' work without it)");
        }

        return new ApiClient(new Uri($"http://{api}"), ApiToken.Read(home));
    }
}

/// <summary>A small client of the node's REST API: bearer token, problem details turned back into errors.</summary>
internal sealed class ApiClient(Uri baseAddress, string token) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) }) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };

    public Task<JsonDocument> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonDocument> PostAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Post, path, null, ct);

    public async IAsyncEnumerable<JsonElement> EventsAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var req = Request(HttpMethod.Get, path);
        using var resp = await Call(req, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(line[6..]);
                yield return doc.RootElement.Clone();
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A call with an optional JSON body and Idempotency-Key; the answer parsed, or the problem turned into a HaulException.</summary>
    public async Task<JsonDocument> SendAsync(HttpMethod method, string path, string? json, CancellationToken ct, string? idempotencyKey = null)
    {
        using var req = Request(method, path);
        if (json is not null)
        {
            req.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            req.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var resp = await Call(req, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        return JsonDocument.Parse(await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var req = new HttpRequestMessage(method, path);
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return req;
    }

    private async Task<HttpResponseMessage> Call(HttpRequestMessage req, HttpCompletionOption completion, CancellationToken ct)
    {
        HttpResponseMessage resp;
        try
        {
            resp = await _http.SendAsync(req, completion, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException || ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new HaulException(ErrorCode.NodeNotRunning, $"no node answers at {_http.BaseAddress}", "start it with 'haul serve' (one-shot commands like 'haul send' work without it)", ex);
        }

        if (resp.IsSuccessStatusCode)
        {
            return resp;
        }

        using (resp)
        {
            string body = await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            try
            {
                using var p = JsonDocument.Parse(body);
                var r = p.RootElement;
                var code = r.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number ? (ErrorCode)c.GetInt32() : ErrorCode.Internal;
                throw new HaulException(code, r.GetProperty("detail").GetString() ?? resp.ReasonPhrase ?? "error", r.TryGetProperty("fix", out var f) ? f.GetString() : null);
            }
            catch (JsonException)
            {
                throw new HaulException(ErrorCode.Internal, $"the node answered {(int)resp.StatusCode} {resp.ReasonPhrase}", "see the node's log");
            }
        }
    }
}
