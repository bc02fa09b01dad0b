using Haul.Operations;
using Haul.Sync;
using Haul.Transfer;

namespace Haul.Node;

/// <summary>How a transfer ended: its one-line summary, and a send's result (with its receipt).</summary>
internal sealed record TransferOutcome(string Summary, SendResult? Send = null);

/// <summary>
/// Runs one typed request of any kind (send, pull, sync, copy, check, bisync) through the same
/// operations as the CLI: the same ends and runners, S3 credentials from the node's environment, peers
/// through the running node and its stores (or, with no running node, the node at the home, opened for
/// the run). The node's transfer manager runs every client's and job's transfer here; a failed run
/// throws with its exit code.
/// </summary>
internal static class TransferRunners
{
    public static async Task<TransferOutcome> RunAsync(SyncContext context, TransferRequest r, Action<TransferProgress> progress, CancellationToken ct)
    {
        using var log = new SyncLog(null, json: false, quiet: true);
        switch (r.Kind)
        {
            case TransferKind.Send:
            case TransferKind.Pull:
            {
                var node = context.Node ?? HaulNode.Open(context.Home);
                try
                {
                    if (r.Kind == TransferKind.Pull)
                    {
                        return new TransferOutcome(await PullAsync(node, context.Index, r, log, progress, ct).ConfigureAwait(false));
                    }

                    var result = await node.SendAsync(r.AsSend(), progress, ct).ConfigureAwait(false);
                    return new TransferOutcome($"sent to {result.PeerName}: {result.Files} files, {Units.Bytes(result.Bytes)}; {Units.Bytes(result.ChunkBytesSent)} new; receipt {result.Receipt.ManifestHash.ToHex()[..16]} verified", result);
                }
                finally
                {
                    if (context.Node is null)
                    {
                        node.Dispose();
                    }
                }
            }

            case TransferKind.Bisync:
            {
                string nodeName = context.Node?.Name ?? HaulNode.NameAt(context.Home);
                var outcome = await SyncOperations.BisyncAsync(r.AsBisync(), context, nodeName, log, null, progress, ct).ConfigureAwait(false);
                return new TransferOutcome(outcome.Summary);
            }

            default:
            {
                var request = r.AsSync();
                var outcome = await SyncOperations.RunAsync(request, context, log, null, progress, ct).ConfigureAwait(false);
                outcome.ThrowIfFailed($"run 'haul {r.Kind.Wire()} {request.Source} {request.Dest}' by hand to see each error");
                return new TransferOutcome(outcome.Summary);
            }
        }
    }

    /// <summary>peer + "folder/path" into a local folder: rclone copy semantics, nothing is deleted.</summary>
    private static async Task<string> PullAsync(HaulNode node, ITreeIndex index, TransferRequest r, SyncLog log, Action<TransferProgress> progress, CancellationToken ct)
    {
        await using var src = await PeerEnd.OpenAsync(node, r.Peer, r.Path, write: false, $"{r.Peer}:{r.Path}", ct).ConfigureAwait(false);
        Directory.CreateDirectory(r.Destination!);
        await using var dst = new LocalEnd(r.Destination!, index);
        var request = new SyncRequest(SyncMode.Copy, $"{r.Peer}:{r.Path}", r.Destination!) { MaxBytesPerSec = r.Rate?.MaxBytesPerSec };
        var stats = await SyncOperations.RunAsync(src, dst, request.ToOptions(), log, null, progress, ct).ConfigureAwait(false);
        var outcome = new SyncOutcome(request, stats, src.Display, dst.Display);
        outcome.ThrowIfFailed($"run 'haul copy {r.Peer}:{r.Path} {r.Destination}' by hand to see each error");
        return outcome.Summary;
    }
}
