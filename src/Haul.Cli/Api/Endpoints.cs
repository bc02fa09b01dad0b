using System.Text.Json;
using Haul.Cli.Commands;
using Haul.Jobs;
using Haul.Node;
using Haul.Operations;
using Haul.Security;
using Haul.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Haul.Cli.Api;

internal sealed record NodeView(string Id, string Name, string Version, string? Listen, string Api, string Health, double UptimeSeconds, int Peers, int ActiveTransfers);

internal sealed record PeerView(string Name, string Id, string? Address);

internal sealed record PeerBody(string? Id, string? Address, string? Name);

internal sealed record InviteBody(string? Address, double? TtlHours);

internal sealed record InviteView(string Token, DateTimeOffset Expires);

internal sealed record JoinBody(string? Token, string? Name);

internal sealed record TransferBody(string? Kind, string? Peer, string? Path, string? Destination, string? Mode, string? MaxRate, string? MinRate, bool? DryRun = null, bool? Checksum = null, string[]? Exclude = null, string[]? Include = null, string? Conflict = null, string[]? Filter = null, string[]? FilesFrom = null, bool? DeleteExcluded = null, bool? SizeOnly = null, bool? IgnoreExisting = null);

internal sealed record FolderView(string Name, string Path, IReadOnlyList<ShareView> Shares);

internal sealed record ShareView(string Peer, string Access);

internal sealed record FolderBody(string? Name, string? Path, string? Share);

internal sealed record JobView(string Name, IReadOnlyList<string> Command, string? Every, string? Watch, bool Paused, DateTimeOffset? NextRun, DateTimeOffset? LastRun, int? LastExitCode, string? LastMessage);

internal sealed record JobBody(string? Name, string? Every, string? Watch, string[]? Command, TransferBody? Transfer = null);

internal sealed record JobRunView(long Id, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int? ExitCode, string? Message);

internal sealed record ReceiptView(string ManifestHash, string Peer, string PeerId, long Files, long Bytes, DateTimeOffset DeliveredAt);

/// <summary>The /api/v1 resources.</summary>
internal static class Endpoints
{
    public static void Map(WebApplication app, ApiContext ctx)
    {
        var api = app.MapGroup("/api/v1");

        api.MapGet("/node", () => NodeInfo(ctx)).WithSummary("This node: ID, name, version, addresses, health");

        api.MapGet("/peers", () => ctx.Node.Store.ListPeers().Select(p => new PeerView(p.Name, p.Id.ToString(), p.Address)).ToList()).WithSummary("Trusted peers");
        api.MapPost("/peers", async (HttpContext http) =>
        {
            var b = await ReadAsync<PeerBody>(http).ConfigureAwait(false);
            var peer = ctx.Node.TrustPeer(Required(b.Id, "id"), Required(b.Name, "name"), b.Address);
            return Results.Created($"/api/v1/peers/{peer.Name}", new PeerView(peer.Name, peer.Id.ToString(), peer.Address));
        }).Accepts<PeerBody>("application/json").Produces<PeerView>(StatusCodes.Status201Created).WithSummary("Trust a peer by node ID");
        api.MapDelete("/peers/{peer}", (string peer) =>
            ctx.Node.Store.RemovePeer(peer) ? Results.NoContent() : throw new HaulException(ErrorCode.UnknownPeer, $"unknown peer '{peer}'", "GET /api/v1/peers lists them")).WithSummary("Stop trusting a peer");
        api.MapPost("/peers/invite", async (HttpContext http) =>
        {
            var b = await ReadAsync<InviteBody>(http, allowEmpty: true).ConfigureAwait(false);
            double hours = b.TtlHours ?? 24;
            if (hours is <= 0 or > 24 * 30 || double.IsNaN(hours))
            {
                throw new HaulException(ErrorCode.Usage, $"ttlHours {hours} is out of range", "use a value above 0 and at most 720");
            }

            string? address = b.Address ?? ctx.PeerEndpoint?.ToString();
            var token = ctx.Node.Invite(address, TimeSpan.FromHours(hours));
            return Results.Ok(new InviteView(token.Encode(), token.Expires));
        }).Accepts<InviteBody>("application/json").Produces<InviteView>().WithSummary("Create a one-use invite token for a new peer");
        api.MapPost("/peers/join", async (HttpContext http) =>
        {
            var b = await ReadAsync<JoinBody>(http).ConfigureAwait(false);
            var peer = await ctx.Node.JoinAsync(Required(b.Token, "token"), b.Name, http.RequestAborted).ConfigureAwait(false);
            return Results.Ok(new PeerView(peer.Name, peer.Id.ToString(), peer.Address));
        }).Accepts<JoinBody>("application/json").Produces<PeerView>().WithSummary("Pair with the node that issued an invite token");

        api.MapGet("/transfers", () => ctx.Transfers.List()).WithSummary("Transfers this node runs for clients, newest first");
        api.MapPost("/transfers", async (HttpContext http) =>
        {
            var b = await ReadAsync<TransferBody>(http).ConfigureAwait(false);
            string? key = http.Request.Headers["Idempotency-Key"];
            if (key is { Length: > 255 })
            {
                throw new HaulException(ErrorCode.Usage, "Idempotency-Key is longer than 255 characters", "use a UUID");
            }

            var request = ToRequest(ctx, b);
            var (view, created) = ctx.Transfers.Start(request, string.IsNullOrEmpty(key) ? null : key);
            return created ? Results.Created($"/api/v1/transfers/{view.Id}", view) : Results.Ok(view);
        }).Accepts<TransferBody>("application/json").Produces<TransferView>(StatusCodes.Status201Created).Produces<TransferView>()
          .WithSummary("Start a send (a local path to a peer), a pull (peer folder/path into a local folder), a sync/copy/check between two ends (path → destination, as 'haul sync' takes them; dryRun, checksum, exclude, include) or a bisync (conflict); an Idempotency-Key header makes a retried POST return the first transfer");
        api.MapGet("/transfers/{id}", (string id) => ctx.Transfers.Get(id) ?? throw NoTransfer(id)).WithSummary("One transfer, with progress");
        api.MapPost("/transfers/{id}/cancel", (string id) => ctx.Transfers.CancelAsync(id)).WithSummary("Cancel a transfer");
        api.MapPost("/transfers/{id}/pause", (string id) => ctx.Transfers.PauseAsync(id)).WithSummary("Pause a transfer (verified chunks are kept)");
        api.MapPost("/transfers/{id}/resume", (string id) => ctx.Transfers.Resume(id)).WithSummary("Resume a paused or failed transfer where it stopped");
        api.MapGet("/transfers/{id}/events", (string id, HttpContext http) => EventsAsync(http, ctx, id)).WithSummary("Live progress of one transfer as server-sent events");
        api.MapGet("/events", (HttpContext http) => EventsAsync(http, ctx, null)).WithSummary("Live progress of all transfers as server-sent events");

        api.MapGet("/folders", () => Folders(ctx)).WithSummary("Named folders and who may use them");
        api.MapPost("/folders", async (HttpContext http) =>
        {
            var b = await ReadAsync<FolderBody>(http).ConfigureAwait(false);
            string name = ctx.Node.SetFolder(Required(b.Name, "name"), Required(b.Path, "path"), b.Share is null ? [] : [b.Share]).Name;
            return Results.Created($"/api/v1/folders/{name}", Folders(ctx).First(f => f.Name == name));
        }).Accepts<FolderBody>("application/json").Produces<FolderView>(StatusCodes.Status201Created).WithSummary("Add or re-point a named folder; share is \"peer:rw,peer2:ro\"");
        api.MapDelete("/folders/{name}", (string name) =>
            ctx.Node.Store.RemoveFolder(name) ? Results.NoContent() : throw new HaulException(ErrorCode.UnknownFolder, $"no folder '{name}'", "GET /api/v1/folders lists them")).WithSummary("Remove a named folder (its files stay)");

        api.MapGet("/jobs", () => ctx.Jobs.List().Select(ToView).ToList()).WithSummary("Sync jobs with next run and last result");
        api.MapPost("/jobs", async (HttpContext http) =>
        {
            var b = await ReadAsync<JobBody>(http).ConfigureAwait(false);
            if ((b.Transfer is null) == (b.Command is null))
            {
                throw new HaulException(ErrorCode.Usage, b.Transfer is null ? "a job needs \"transfer\" (a transfer body) or \"command\" (a haul argument list)" : "a job takes \"transfer\" or \"command\", not both", "e.g. \"transfer\": {\"kind\": \"sync\", \"path\": \"/data/new\", \"destination\": \"hub:incoming\"}");
            }

            string[] argv = b.Command ?? [];
            var job = b.Transfer is { } t
                ? JobFactory.Create(Required(b.Name, "name"), [], () => ToRequest(ctx, t), b.Every, b.Watch, DateTimeOffset.Now)
                : JobFactory.Create(Required(b.Name, "name"), argv, () => CommandSpecs.FromArgv(argv, ctx.Node.DefaultRatePolicy), b.Every, b.Watch, DateTimeOffset.Now);
            if (job.Command.Count == 0)
            {
                job = job with { Command = JobFactory.Display(job.Spec!) };
            }

            if (ctx.Jobs.Find(job.Name) is not null)
            {
                throw new HaulException(ErrorCode.AlreadyInitialized, $"a job named '{job.Name}' exists", "remove it first or pick another name");
            }

            ctx.Jobs.Add(job);
            return Results.Created($"/api/v1/jobs/{job.Name}", ToView(ctx.Jobs.Get(job.Name)));
        }).Accepts<JobBody>("application/json").Produces<JobView>(StatusCodes.Status201Created).WithSummary("Schedule a job: every (cron or interval) or watch (a folder), and what it runs: command (a haul sync/copy/check/bisync/send argument list) or transfer (a body as POST /transfers takes it); stored as a typed request and run in the node as a transfer");
        api.MapPost("/jobs/{name}/run", async (string name, HttpContext http) =>
        {
            var job = ctx.Jobs.Get(name);
            var (code, message) = await ctx.Host.RunJobAsync(job, "api", http.RequestAborted).ConfigureAwait(false);
            return Results.Ok(new JobRunResult(name, code, message));
        }).Produces<JobRunResult>().WithSummary("Run a job now and wait for its result");
        api.MapPost("/jobs/{name}/pause", (string name) => SetPaused(ctx, name, true)).WithSummary("Pause a job's schedule");
        api.MapPost("/jobs/{name}/resume", (string name) => SetPaused(ctx, name, false)).WithSummary("Resume a job's schedule");
        api.MapDelete("/jobs/{name}", (string name) =>
            ctx.Jobs.Remove(name) ? Results.NoContent() : throw new HaulException(ErrorCode.Usage, $"no job named '{name}'", "GET /api/v1/jobs lists them")).WithSummary("Remove a job");
        api.MapGet("/jobs/{name}/history", (string name) =>
        {
            _ = ctx.Jobs.Get(name);
            return ctx.Jobs.History(name, 50).Select(r => new JobRunView(r.Id, r.Trigger, r.StartedAt, r.FinishedAt, r.ExitCode, r.Message)).ToList();
        }).WithSummary("A job's recent runs");

        api.MapGet("/receipts", () => ctx.Node.Store.ListReceipts().Select(r => new ReceiptView(r.ManifestHash, r.PeerName, r.PeerId, r.Files, r.Bytes, r.DeliveredAt)).ToList()).WithSummary("Signed delivery receipts this node holds");

        app.MapGet("/metrics", (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            return http.Response.WriteAsync(Metrics.Render(ctx), http.RequestAborted);
        }).WithSummary("Prometheus metrics");

        api.MapFallback((HttpContext http) => Problems.WriteAsync(http, StatusCodes.Status404NotFound, "no-such-resource", $"no resource at {http.Request.Method} {http.Request.Path}", "see /openapi.json", null));
    }

    /// <summary>A transfer body as the typed request the node runs (the same for POST /transfers and a job's "transfer").</summary>
    private static TransferRequest ToRequest(ApiContext ctx, TransferBody b)
    {
        var rate = b.Mode is null && b.MaxRate is null && b.MinRate is null
            ? null
            : Transfer.Congestion.RatePolicy.Parse(b.Mode, b.MinRate, b.MaxRate, ctx.Node.DefaultRatePolicy, "/openapi.json");
        var kind = TransferNames.ParseKind(b.Kind);

        // An option the kind does not take is refused, not ignored: a "dryRun" send really sent.
        string? unused = !kind.BetweenEnds() && (b.DryRun is not null || b.Checksum is not null || b.Exclude is not null || b.Include is not null || b.Filter is not null || b.FilesFrom is not null) ? "dryRun, checksum, exclude, include, filter and filesFrom"
            : b.Conflict is not null && kind != TransferKind.Bisync ? "conflict"
            : b.Checksum is not null && kind == TransferKind.Bisync ? "checksum"
            : b.DeleteExcluded is not null && kind != TransferKind.Sync ? "deleteExcluded"
            : b.SizeOnly is not null && kind is not (TransferKind.Sync or TransferKind.Copy or TransferKind.Check) ? "sizeOnly"
            : b.IgnoreExisting is not null && kind is not (TransferKind.Sync or TransferKind.Copy) ? "ignoreExisting"
            : null;
        if (unused is not null)
        {
            throw new HaulException(ErrorCode.Usage, $"a {kind.Wire()} does not take {unused}", kind.BetweenEnds() ? "conflict is bisync's; checksum is sync's, copy's and check's" : "they apply to sync, copy, check and bisync; leave them out of a send or pull");
        }

        var request = new TransferRequest(kind, kind.BetweenEnds() ? b.Peer ?? string.Empty : Required(b.Peer, "peer"), Required(b.Path, "path"), b.Destination, rate);
        var filter = new FilterSpec { Exclude = b.Exclude ?? [], Include = b.Include ?? [], Filter = b.Filter ?? [], FilesFrom = b.FilesFrom ?? [] };
        return kind switch
        {
            TransferKind.Sync or TransferKind.Copy or TransferKind.Check => request with
            {
                Sync = request.AsSync() with { DryRun = b.DryRun ?? false, Checksum = b.Checksum ?? false, Filter = filter, DeleteExcluded = b.DeleteExcluded ?? false, SizeOnly = b.SizeOnly ?? false, IgnoreExisting = b.IgnoreExisting ?? false },
            },
            TransferKind.Bisync => request with { Bisync = request.AsBisync() with { DryRun = b.DryRun ?? false, Filter = filter, Conflict = b.Conflict is null ? Sync.ConflictPolicy.Newer : BisyncRequest.ParseConflict(b.Conflict) } },
            _ => request,
        };
    }

    private static NodeView NodeInfo(ApiContext ctx) => new(
        ctx.Node.Identity.Id.ToString(),
        ctx.Node.Name,
        ApiServer.Version,
        ctx.PeerEndpoint?.ToString(),
        ctx.Endpoint.ToString(),
        "ok",
        Math.Round((DateTimeOffset.UtcNow - ctx.StartedAt).TotalSeconds, 1),
        ctx.Node.Store.ListPeers().Count,
        ctx.Transfers.Active);

    private static List<FolderView> Folders(ApiContext ctx)
    {
        var names = ctx.Node.Store.ListPeers().ToDictionary(p => p.Id.Canonical, p => p.Name);
        return [.. ctx.Node.Store.ListFolders().Select(f => new FolderView(f.Name, f.Path, [.. f.Shares.Select(s => new ShareView(names.TryGetValue(s.PeerId, out var n) ? n : s.PeerId, s.Access.Wire()))]))];
    }

    private static JobView ToView(Job j) => new(j.Name, j.Command, j.Every, j.WatchPath, j.Paused, j.NextRun, j.LastRun, j.LastExitCode, j.LastMessage);

    private static JobView SetPaused(ApiContext ctx, string name, bool paused)
    {
        _ = ctx.Jobs.Get(name);
        ctx.Jobs.SetPaused(name, paused);
        return ToView(ctx.Jobs.Get(name));
    }

    private static HaulException NoTransfer(string id) => new(ErrorCode.PathNotFound, $"no transfer {id}", "GET /api/v1/transfers lists them");

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new HaulException(ErrorCode.Usage, $"\"{field}\" is missing", $"set \"{field}\" in the JSON body") : value;

    /// <summary>Reads a JSON body; malformed JSON or a wrong type is a 400 that says where.</summary>
    private static async Task<T> ReadAsync<T>(HttpContext http, bool allowEmpty = false)
        where T : class
    {
        var info = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ApiJson.Default.GetTypeInfo(typeof(T))!;
        if (allowEmpty && (http.Request.ContentLength ?? -1) == 0)
        {
            return JsonSerializer.Deserialize("{}", info)!;
        }

        if (!(http.Request.ContentType ?? string.Empty).StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new HaulException(ErrorCode.Usage, $"the body must be JSON, not '{http.Request.ContentType}'", "send 'Content-Type: application/json'");
        }

        try
        {
            return await JsonSerializer.DeserializeAsync(http.Request.Body, info, http.RequestAborted).ConfigureAwait(false)
                ?? throw new HaulException(ErrorCode.Usage, "the JSON body is null", "send a JSON object");
        }
        catch (JsonException ex)
        {
            throw new HaulException(ErrorCode.Usage, $"malformed JSON at {ex.Path ?? "$"} (line {(ex.LineNumber ?? 0) + 1}): {ex.Message.Split(" Path:")[0]}", "send a JSON object as /openapi.json describes");
        }
    }

    /// <summary>Server-sent events: one "transfer" event per snapshot, the current state first, a comment every 15 s to keep proxies open.</summary>
    private static async Task EventsAsync(HttpContext http, ApiContext ctx, string? id)
    {
        if (id is not null && ctx.Transfers.Get(id) is null)
        {
            throw NoTransfer(id);
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var ct = http.RequestAborted;
        async Task Send(TransferView v)
        {
            await http.Response.WriteAsync($"event: transfer\ndata: {JsonSerializer.Serialize(v, ApiJson.Default.TransferView)}\n\n", ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }

        try
        {
            using var heartbeat = new PeriodicTimer(TimeSpan.FromSeconds(15));
            var watch = ctx.Transfers.WatchAsync(ct).GetAsyncEnumerator(ct);
            foreach (var v in ctx.Transfers.List().Where(v => id is null || v.Id == id).Reverse())
            {
                await Send(v).ConfigureAwait(false);
            }

            var next = watch.MoveNextAsync().AsTask();
            var tick = heartbeat.WaitForNextTickAsync(ct).AsTask();
            while (true)
            {
                if (await Task.WhenAny(next, tick).ConfigureAwait(false) == next)
                {
                    if (!await next.ConfigureAwait(false))
                    {
                        return;
                    }

                    if (id is null || watch.Current.Id == id)
                    {
                        await Send(watch.Current).ConfigureAwait(false);
                    }

                    next = watch.MoveNextAsync().AsTask();
                }
                else
                {
                    tick = heartbeat.WaitForNextTickAsync(ct).AsTask();
                    await http.Response.WriteAsync(": keep-alive\n\n", ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
