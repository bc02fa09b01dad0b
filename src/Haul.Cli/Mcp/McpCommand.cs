using System.CommandLine;
using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Haul.Cli.Commands;
using Haul.Node;
using Haul.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace Haul.Cli.Mcp;

/// <summary>
/// 'haul mcp': an MCP server on stdio (the official ModelContextProtocol SDK) for AI agents. Every tool
/// is a call to the local node's REST API, so an agent can do exactly what the token allows and the
/// node's checks apply; stdout carries only JSON-RPC, logs go to stderr.
/// </summary>
internal static class McpCommand
{
    public static Command Create()
    {
        var cmd = new Command("mcp", "Serve the Model Context Protocol on stdio for AI agents (a client of the local node's REST API; start 'haul serve' first)");
        cmd.SetAction(async (pr, ct) =>
        {
            string home = Cli.HomeOf(pr);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton(new NodeApi(home));
            builder.Services
                .AddMcpServer(o => o.ServerInfo = new() { Name = "haul", Version = Api.ApiServer.Version })
                .WithStdioServerTransport()
                .WithTools<HaulTools>(McpToolJson.ToolOptions());
            using var host = builder.Build();
            await host.RunAsync(ct).ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }
}

/// <summary>The local node's API, found through HAUL_HOME (address recorded by 'haul serve', token file), opened per call so a restarted node or a rotated token is picked up.</summary>
internal sealed class NodeApi(string home)
{
    public async Task<string> CallAsync(HttpMethod method, string path, string? body, CancellationToken ct, string? idempotencyKey = null)
    {
        try
        {
            if (!NodeIdentity.Exists(home))
            {
                throw new HaulException(ErrorCode.NotInitialized, $"no node in {home}", "run 'haul init --name NAME' and 'haul serve'");
            }

            string? api;
            using (var node = HaulNode.Open(home))
            {
                api = node.Store.GetMeta("api");
            }

            if (api is null)
            {
                throw new HaulException(ErrorCode.NodeNotRunning, "the node has never served its API", "start it with 'haul serve'");
            }

            using var client = new ApiClient(new Uri($"http://{api}"), ApiToken.Read(home));
            using var doc = await client.SendAsync(method, path, body, ct, idempotencyKey).ConfigureAwait(false);
            return doc.RootElement.GetRawText();
        }
        catch (HaulException ex)
        {
            // Tool errors go back to the agent as an error result it can read and act on.
            throw new McpException(ex.Hint is null ? ex.Message : $"{ex.Message}; {ex.Hint}");
        }
    }
}

/// <summary>The tools' argument and result types, serialized by generated code (works in the Native AOT binary).</summary>
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(bool))]
internal sealed partial class McpToolJson : JsonSerializerContext
{
    /// <summary>The SDK's options with these types resolved first (built once, at server start).</summary>
    public static JsonSerializerOptions ToolOptions()
    {
        var o = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions);
        o.TypeInfoResolverChain.Insert(0, Default);
        o.MakeReadOnly();
        return o;
    }
}

[McpServerToolType]
internal sealed class HaulTools(NodeApi api)
{
    [McpServerTool(Name = "node_status", ReadOnly = true), Description("This Haul node: its ID, name, version, addresses, health, number of peers and active transfers.")]
    public Task<string> NodeStatus(CancellationToken ct) => api.CallAsync(HttpMethod.Get, "/api/v1/node", null, ct);

    [McpServerTool(Name = "list_peers", ReadOnly = true), Description("The peers this node trusts (name, node ID, address). Transfers go only to and from these.")]
    public Task<string> ListPeers(CancellationToken ct) => api.CallAsync(HttpMethod.Get, "/api/v1/peers", null, ct);

    [McpServerTool(Name = "send"), Description("Send a local file or folder to a trusted peer (it lands in the peer's inbox). Returns at once with a transfer whose progress transfer_status reports.")]
    public Task<string> Send(
        [Description("Absolute path of the file or folder on this node")] string path,
        [Description("Peer name or node ID (see list_peers)")] string peer,
        [Description("Optional upper bound on the rate, e.g. \"200M\" (bytes/s) or \"800Mbit\"")] string? maxRate = null,
        [Description("Optional rate mode: fair (default), background (yield to other traffic) or fixed")] string? mode = null,
        [Description("Optional idempotency key: calling again with the same key returns the same transfer instead of starting another")] string? idempotencyKey = null,
        CancellationToken ct = default) =>
        Start(new Api.TransferBody("send", peer, path, null, mode, maxRate, null), idempotencyKey, ct);

    [McpServerTool(Name = "pull"), Description("Copy a path from a folder a peer shares with this node into a local folder (nothing is deleted). Returns a transfer to follow with transfer_status.")]
    public Task<string> Pull(
        [Description("Peer name or node ID")] string peer,
        [Description("folder/path on the peer, e.g. \"models/prod\"")] string path,
        [Description("Absolute local folder to copy into")] string destination,
        [Description("Optional idempotency key")] string? idempotencyKey = null,
        CancellationToken ct = default) =>
        Start(new Api.TransferBody("pull", peer, path, destination, null, null, null), idempotencyKey, ct);

    [McpServerTool(Name = "sync"), Description("Make destination match source, as 'haul sync' does (or only copy, never delete, with deleteExtraneous=false). Each end is a local path, peer:folder/path or s3://bucket/prefix. Returns a transfer to follow with transfer_status.")]
    public Task<string> Sync(
        [Description("Source end")] string source,
        [Description("Destination end")] string destination,
        [Description("true (default): delete files on the destination that the source lacks, after every copy succeeded; false: copy only")] bool deleteExtraneous = true,
        [Description("true: plan only, change nothing (the transfer's summary says what would happen)")] bool dryRun = false,
        [Description("Optional rclone filter rules in order, each \"+ PATTERN\" (include) or \"- PATTERN\" (exclude), e.g. [\"- *.tmp\", \"+ data/**\", \"- *\"]")] string[]? filter = null,
        [Description("true: also delete destination files the filter leaves out (only with deleteExtraneous)")] bool deleteExcluded = false,
        [Description("true: compare by size only, ignoring modification times")] bool sizeOnly = false,
        [Description("true: skip every file the destination already has")] bool ignoreExisting = false,
        [Description("Optional idempotency key")] string? idempotencyKey = null,
        CancellationToken ct = default) =>
        Start(new Api.TransferBody(deleteExtraneous ? "sync" : "copy", null, source, destination, null, null, null, DryRun: dryRun, Filter: filter, DeleteExcluded: deleteExcluded ? true : null, SizeOnly: sizeOnly ? true : null, IgnoreExisting: ignoreExisting ? true : null), idempotencyKey, ct);

    [McpServerTool(Name = "check", ReadOnly = true), Description("Compare source and destination by size and SHA-256, as 'haul check' does; changes nothing. The transfer ends done when they match, failed (error code 22, with the number of differences) when they differ.")]
    public Task<string> Check(
        [Description("Source end: local path, peer:folder/path or s3://bucket/prefix")] string source,
        [Description("Destination end")] string destination,
        CancellationToken ct = default) =>
        Start(new Api.TransferBody("check", null, source, destination, null, null, null), null, ct);

    [McpServerTool(Name = "bisync"), Description("Two-way sync as 'haul bisync' does: new, changed and deleted files propagate both ways; a file changed on both sides is a conflict, the loser kept as NAME.conflict-DATE-NODE.EXT. Returns a transfer to follow with transfer_status.")]
    public Task<string> Bisync(
        [Description("First end: local path or peer:folder/path")] string path1,
        [Description("Second end")] string path2,
        [Description("Who wins a conflict: newer (default), older, larger, path1 or path2")] string? conflict = null,
        [Description("true: plan only, change nothing")] bool dryRun = false,
        CancellationToken ct = default) =>
        Start(new Api.TransferBody("bisync", null, path1, path2, null, null, null, DryRun: dryRun, Conflict: conflict), null, ct);

    [McpServerTool(Name = "list_transfers", ReadOnly = true), Description("Transfers this node runs for clients, newest first, with state (running, paused, done, failed, cancelled), percent, bytes and rate.")]
    public Task<string> ListTransfers(CancellationToken ct) => api.CallAsync(HttpMethod.Get, "/api/v1/transfers", null, ct);

    [McpServerTool(Name = "transfer_status", ReadOnly = true), Description("One transfer's state and progress: state, phase, percent, bytesDone/bytesTotal, rate; on failure an error and how to fix it.")]
    public Task<string> TransferStatus([Description("Transfer ID, e.g. t-1a2b3c4d5e6f")] string id, CancellationToken ct) =>
        api.CallAsync(HttpMethod.Get, $"/api/v1/transfers/{Uri.EscapeDataString(id)}", null, ct);

    [McpServerTool(Name = "cancel_transfer", Destructive = true), Description("Cancel a running or paused transfer. Files already complete on the receiver stay; nothing partial lands at a final path.")]
    public Task<string> CancelTransfer([Description("Transfer ID")] string id, CancellationToken ct) =>
        api.CallAsync(HttpMethod.Post, $"/api/v1/transfers/{Uri.EscapeDataString(id)}/cancel", null, ct);

    [McpServerTool(Name = "list_jobs", ReadOnly = true), Description("Scheduled and watched sync jobs with their command, schedule, next run and last result.")]
    public Task<string> ListJobs(CancellationToken ct) => api.CallAsync(HttpMethod.Get, "/api/v1/jobs", null, ct);

    [McpServerTool(Name = "schedule_job"), Description("Save a job the node runs on a schedule (every: cron \"0 2 * * *\" or interval \"15m\") or when a folder changes (watch). The command is a haul command as a list, e.g. [\"sync\", \"/data/new\", \"hub:incoming\"].")]
    public Task<string> ScheduleJob(
        [Description("Job name: letters, digits, '-', '_', '.'")] string name,
        [Description("The haul command as a list of arguments; one of sync, copy, check, bisync, send")] string[] command,
        [Description("Cron schedule or interval (give this or watch)")] string? every = null,
        [Description("Absolute folder to watch for changes (give this or every)")] string? watch = null,
        CancellationToken ct = default) =>
        api.CallAsync(HttpMethod.Post, "/api/v1/jobs", JsonSerializer.Serialize(new Api.JobBody(name, every, watch, command), Api.ApiJson.Default.JobBody), ct);

    [McpServerTool(Name = "run_job"), Description("Run a saved job now and wait for its result (exit code 0 is success; the message is its last line).")]
    public Task<string> RunJob([Description("Job name")] string name, CancellationToken ct) =>
        api.CallAsync(HttpMethod.Post, $"/api/v1/jobs/{Uri.EscapeDataString(name)}/run", null, ct);

    [McpServerTool(Name = "list_receipts", ReadOnly = true), Description("Signed delivery receipts this node holds: which peer received which manifest (files, bytes) and when.")]
    public Task<string> ListReceipts(CancellationToken ct) => api.CallAsync(HttpMethod.Get, "/api/v1/receipts", null, ct);

    private Task<string> Start(Api.TransferBody body, string? key, CancellationToken ct) =>
        api.CallAsync(HttpMethod.Post, "/api/v1/transfers", JsonSerializer.Serialize(body, Api.ApiJson.Default.TransferBody), ct, key);
}
