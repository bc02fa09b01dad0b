using Haul.Sync;
using Haul.Transfer;

namespace Haul.Node;

/// <summary>
/// Pulls, syncs and copies run in the node's process for its clients (REST, MCP, dashboard), with the
/// CLI's semantics: the same ends and runner, S3 credentials from the node's environment, peers through
/// the running node and its stores. Progress is byte-level every 250 ms: bytes copied as they are read
/// (a peer batch's when it lands), against what is planned so far.
/// </summary>
internal static class TransferRunners
{
    public static async Task RunAsync(HaulNode node, TransferRequest r, Action<TransferProgress> progress, CancellationToken ct)
    {
        using var index = TreeIndex.ForHome(node.Home);
        var s3 = new S3Config(null, null, null, null, null);
        ISyncEnd? src = null, dst = null;
        try
        {
            if (r.Kind == TransferKind.Pull)
            {
                // peer + "folder/path" into a local folder: rclone copy semantics, nothing is deleted.
                src = await PeerEnd.OpenAsync(node, r.Peer, r.Path, write: false, $"{r.Peer}:{r.Path}", ct).ConfigureAwait(false);
                Directory.CreateDirectory(r.Destination!);
                dst = new LocalEnd(r.Destination!, index);
            }
            else
            {
                src = await SyncEnds.OpenAsync(r.Path, index, s3, node.Home, node, write: false, ct).ConfigureAwait(false);
                dst = await SyncEnds.OpenAsync(r.Destination!, index, s3, node.Home, node, write: true, ct).ConfigureAwait(false);
                if (src is LocalEnd ls && dst is LocalEnd ld)
                {
                    SyncEnds.CheckOverlap(ls, ld, null);
                }
            }

            await RunAsync(r, src, dst, progress, ct).ConfigureAwait(false);
        }
        finally
        {
            if (dst is not null)
            {
                await dst.DisposeAsync().ConfigureAwait(false);
            }

            if (src is not null)
            {
                await src.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task RunAsync(TransferRequest r, ISyncEnd src, ISyncEnd dst, Action<TransferProgress> progress, CancellationToken ct)
    {
        using var log = new SyncLog(null, json: false, quiet: true);
        var options = new SyncOptions
        {
            Mode = r.Kind == TransferKind.Sync ? SyncMode.Sync : SyncMode.Copy,
            BandwidthLimit = r.Rate is { MaxBytesPerSec: > 0 and < 5e9 } rate ? BandwidthSchedule.Constant(rate.MaxBytesPerSec) : null,
        };
        var runner = new SyncRunner(src, dst, options, log);
        string mode = dst is IBatchedSyncEnd || src is IBatchedSyncEnd ? "udp" : "local";
        var started = System.Diagnostics.Stopwatch.StartNew();
        void Report(string phase)
        {
            var st = runner.Stats;
            long moved = Interlocked.Read(ref st.BytesMoved);
            long planned = Math.Max(moved, Interlocked.Read(ref st.PlannedBytes));
            progress(new TransferProgress(phase, moved, planned, (int)Interlocked.Read(ref st.Copied), (int)Interlocked.Read(ref st.PlannedFiles), moved / Math.Max(started.Elapsed.TotalSeconds, 1e-3), mode));
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
            string verb = r.Kind == TransferKind.Pull ? "copy" : r.Kind.Wire();
            string from = r.Kind == TransferKind.Pull ? $"{r.Peer}:{r.Path}" : r.Path;
            throw new HaulException(ErrorCode.SyncIncomplete, $"{stats.Errors} files failed{(stats.SkippedDeletes > 0 ? $"; {stats.SkippedDeletes} deletions skipped" : string.Empty)}", $"run 'haul {verb} {from} {r.Destination}' by hand to see each error");
        }

        Report("done");
    }
}
