using System.Net;
using Haul.Jobs;
using Haul.Node;
using Haul.Security;
using Haul.Sync;
using Haul.Transfer;
using Microsoft.Extensions.Logging;

namespace Haul.Cli.Api;

/// <summary>Starts the REST API next to the node in 'haul serve', and runs pulls for it.</summary>
internal static class ApiHost
{
    /// <summary>--api: "off", ADDRESS:PORT, or null for 127.0.0.1 and the control port + 1.</summary>
    public static IPEndPoint? ParseEndpoint(string? spec, IPEndPoint control, bool allowRemote)
    {
        if (spec is "off" or "none")
        {
            return null;
        }

        IPEndPoint ep;
        if (spec is null)
        {
            ep = new IPEndPoint(IPAddress.Loopback, control.Port == 0 ? 0 : control.Port + 1);
        }
        else if (!IPEndPoint.TryParse(spec, out ep!) || (ep.Port == 0 && !spec.EndsWith(":0", StringComparison.Ordinal)))
        {
            throw new HaulException(ErrorCode.Usage, $"--api '{spec}' is not ADDRESS:PORT", "use e.g. 127.0.0.1:7401, or 'off'");
        }

        if (!IPAddress.IsLoopback(ep.Address) && !allowRemote)
        {
            throw new HaulException(ErrorCode.Usage, $"--api {ep} is not a loopback address", "add --api-allow-remote to expose the API on the network (the token is then the only guard; use TLS in front)");
        }

        return ep;
    }

    /// <param name="explicitEndpoint">The user named the address: failing to bind it is an error. Otherwise a busy default port falls back to a free one (recorded for the CLI).</param>
    public static async Task<(ApiServer Server, TransferManager Transfers)> StartAsync(string home, HaulNode node, JobStore jobs, JobScheduler scheduler, IPEndPoint endpoint, bool explicitEndpoint, IPEndPoint peerEndpoint, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("haul.api");
        ApiToken.Ensure(home);
        var transfers = new TransferManager(node, (r, p, ct) => r.Kind == TransferKind.Pull ? PullAsync(home, node, r, p, ct) : SyncAsync(home, node, r, p, ct), loggers.CreateLogger("haul.transfers"));
        var ctx = new ApiContext(home, node, transfers, jobs, scheduler, endpoint, peerEndpoint);
        ApiServer server;
        try
        {
            server = await ApiServer.StartAsync(ctx, endpoint).ConfigureAwait(false);
        }
        catch (IOException) when (!explicitEndpoint && endpoint.Port != 0)
        {
            endpoint = new IPEndPoint(endpoint.Address, 0);
            ctx.Endpoint = endpoint;
            server = await ApiServer.StartAsync(ctx, endpoint).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await transfers.DisposeAsync().ConfigureAwait(false);
            throw new HaulException(ErrorCode.Usage, $"cannot listen on {endpoint} for the API: {ex.Message}", "pick another --api port, or --api off", ex);
        }

        var bound = IPEndPoint.Parse(new Uri(server.Address).Authority);
        ctx.Endpoint = bound;
        node.Store.SetMeta("api", bound.ToString());
        Log.ApiServing(log, bound.ToString(), ApiToken.PathFor(home));
        if (!IPAddress.IsLoopback(bound.Address))
        {
            Log.ApiExposed(log, bound.ToString());
        }

        return (server, transfers);
    }

    /// <summary>
    /// A sync or copy between two ends, in this process with the CLI's semantics (the same ends and
    /// runner; S3 credentials from the node's environment; peers through the running node), reporting
    /// byte-level progress every 250 ms: bytes copied as they are read, against what is planned so far.
    /// </summary>
    private static async Task SyncAsync(string home, HaulNode node, TransferRequest r, Action<TransferProgress> progress, CancellationToken ct)
    {
        var mode = r.Kind == TransferKind.Sync ? SyncMode.Sync : SyncMode.Copy;
        using var index = TreeIndex.ForHome(home);
        var s3 = new S3Config(null, null, null, null, null);
        await using var src = await SyncEnds.OpenAsync(r.Path, index, s3, home, node, write: false, ct).ConfigureAwait(false);
        await using var dst = await SyncEnds.OpenAsync(r.Destination!, index, s3, home, node, write: true, ct).ConfigureAwait(false);
        if (src is LocalEnd ls && dst is LocalEnd ld)
        {
            SyncEnds.CheckOverlap(ls, ld, null);
        }

        using var log = new SyncLog(null, json: false, quiet: true);
        var options = new SyncOptions
        {
            Mode = mode,
            BandwidthLimit = r.Rate is { MaxBytesPerSec: > 0 and < 5e9 } rate ? BandwidthSchedule.Constant(rate.MaxBytesPerSec) : null,
        };
        var runner = new SyncRunner(src, dst, options, log);
        var started = System.Diagnostics.Stopwatch.StartNew();
        void Report(string phase)
        {
            var st = runner.Stats;
            long moved = Interlocked.Read(ref st.BytesMoved);
            progress(new TransferProgress(phase, moved, Math.Max(moved, Interlocked.Read(ref st.PlannedBytes)), (int)Interlocked.Read(ref st.Copied), (int)Interlocked.Read(ref st.PlannedFiles), moved / Math.Max(started.Elapsed.TotalSeconds, 1e-3), dst is IBatchedSyncEnd || src is IBatchedSyncEnd ? "udp" : "local"));
        }

        Report(r.Kind.Wire());
        var run = runner.RunAsync(ct);
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250)))
        {
            while (!ct.IsCancellationRequested && await Task.WhenAny(run, timer.WaitForNextTickAsync(ct).AsTask()).ConfigureAwait(false) != run)
            {
                Report(r.Kind.Wire());
            }
        }

        var stats = await run.ConfigureAwait(false);
        if (stats.Errors > 0)
        {
            throw new HaulException(ErrorCode.SyncIncomplete, $"{stats.Errors} files failed{(stats.SkippedDeletes > 0 ? $"; {stats.SkippedDeletes} deletions skipped" : string.Empty)}", $"run 'haul {r.Kind.Wire()} {r.Path} {r.Destination}' by hand to see each error");
        }

        Report("done");
    }

    /// <summary>A pull: copy peer:folder/path into a local folder (rclone copy semantics: nothing is deleted).</summary>
    private static async Task PullAsync(string home, HaulNode node, TransferRequest r, Action<TransferProgress> progress, CancellationToken ct)
    {
        using var index = TreeIndex.ForHome(home);
        await using var src = await PeerEnd.OpenAsync(node, r.Peer, r.Path, write: false, $"{r.Peer}:{r.Path}", ct).ConfigureAwait(false);
        Directory.CreateDirectory(r.Destination!);
        await using var dst = new LocalEnd(r.Destination!, index);
        using var log = new SyncLog(null, json: false, quiet: true);
        progress(new TransferProgress("copy", 0, 0, 0, 0, 0, "udp"));
        var stats = await new SyncRunner(src, dst, new SyncOptions { Mode = SyncMode.Copy }, log).RunAsync(ct).ConfigureAwait(false);
        if (stats.Errors > 0)
        {
            throw new HaulException(ErrorCode.SyncIncomplete, $"{stats.Errors} files failed", "see the node's log, fix the cause and resume");
        }

        progress(new TransferProgress("done", stats.CopiedBytes, stats.CopiedBytes, (int)stats.Copied, (int)stats.Copied, 0, "udp"));
    }
}
