using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.State;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>
/// The sending half of one transfer over an authenticated control channel: offer the
/// manifest, learn what the receiver lacks, move those chunks over UDP (or TCP when UDP is blocked),
/// then verify and store the receiver's signed receipt.
/// </summary>
internal sealed class SendSession
{
    private readonly NodeIdentity _me;
    private readonly INodeCatalog _store;
    private readonly PeerRecord _peer;
    private readonly SendOptions _options;
    private readonly Action<TransferProgress>? _progress;
    private readonly ILogger _log;

    public SendSession(NodeIdentity me, INodeCatalog store, PeerRecord peer, SendOptions options, Action<TransferProgress>? progress, ILogger log)
    {
        _me = me;
        _store = store;
        _peer = peer;
        _options = options;
        _progress = progress;
        _log = log;
    }

    /// <summary>
    /// Sends over any authenticated control channel: the one this node dialled, or (for a pull) one a
    /// peer dialled in on, where <paramref name="remote"/> is the address it came from. Negotiate
    /// (<see cref="SendNegotiation"/>), run the data (<see cref="FallbackDataPlane"/>) while the control
    /// loop counts confirmations (<see cref="SendProgress"/>), then verify and store the receipt.
    /// </summary>
    /// <param name="udpGuess">Where the receiver serves UDP if it serves it on its TCP port (the address this node
    /// dialled, for a receiver that takes session proposals): the data then starts with the OFFER. Null: no proposal.</param>
    public async Task<SendResult> RunAsync(ControlChannel ctl, IPAddress remote, X509Certificate2 peerCertificate, ScannedTree tree, CancellationToken cancellationToken, IPEndPoint? udpGuess = null)
    {
        var sw = Stopwatch.StartNew();
        var m = tree.Manifest;
        long journalId = _store.BeginTransfer("out", m.Hash.ToHex(), _peer.Id.Canonical, m.RootName, m.FileCount, m.TotalBytes);
        using var source = new ChunkSource(tree.Locations);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sendBudget = MemoryBudget.Sending.Open(_peer.Id);
        using var negotiation = new SendNegotiation(_peer, _options, _log);
        var session = await negotiation.RunAsync(ctl, remote, tree, udpGuess, sendBudget, linked.Token).ConfigureAwait(false);

        var progress = new SendProgress(m);
        var data = new FallbackDataPlane(ctl, session, negotiation.Udp, m, source, progress, _options, sendBudget, _log);
        NeedList need;
        byte[] receiptFrame;
        try
        {
            (need, receiptFrame) = await RunDataPhaseAsync(ctl, session, data, progress, m, sw, linked, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            data.Dispose();
            if (_store.TransferState(journalId) == "running")
            {
                _store.FinishTransfer(journalId, "interrupted");
            }
        }

        var receipt = await AcceptReceiptAsync(ctl, receiptFrame, peerCertificate, m, journalId, cancellationToken).ConfigureAwait(false);
        string mode = progress.Mode;
        _progress?.Invoke(new TransferProgress(TransferPhase.Done, m.TotalBytes, m.TotalBytes, m.FileCount, m.FileCount, m.TotalBytes / Math.Max(sw.Elapsed.TotalSeconds, 1e-6), mode, data.Notice));
        HaulMetrics.SendFinished(progress.ChunkBytes, data.WireBytes, data.PacketsSent, data.Retransmitted, m.TotalBytes, sw.Elapsed, data.SrttMs);
        return new SendResult(receipt, _peer.Name, sw.Elapsed, m.TotalBytes, m.FileCount, progress.ChunkBytes, need.ReusedBytes, data.WireBytes, data.PacketsSent, data.Retransmitted, mode, data.SrttMs, session.EarlyStart, session.Adopted, data.FeedbackBeforeNeedList);
    }

    /// <summary>
    /// START and the data (after an early accept, the need list that follows), the control loop and the
    /// progress reports, until the receiver's receipt; returns the need list and the receipt frame. Ends
    /// with <paramref name="linked"/> cancelled (every task of the phase stops).
    /// </summary>
    /// <param name="linked">The send's own source: the caller's token, and the stall watch that cancels it.</param>
    private async Task<(NeedList Need, byte[] Receipt)> RunDataPhaseAsync(ControlChannel ctl, NegotiatedSession session, FallbackDataPlane data, SendProgress progress, Manifest m, Stopwatch sw, CancellationTokenSource linked, CancellationToken cancellationToken)
    {
        Task reporter = Task.CompletedTask;

        // The data phase ends if the receiver stops moving it (see StallWatch): chunks confirmed for the first
        // time, bytes the TLS connection took; not frames (an empty CHUNK_DONE would hold it for ever). Waiting for the receipt once every chunk is done is
        // not watched (the receiver is placing and flushing the tree).
        using var stall = new StallWatch(_options.StallTimeout, linked.Cancel, () => data.Progress);
        try
        {
            await data.StartAsync(linked.Token).ConfigureAwait(false);
            var need = session.Need;
            if (need is null)
            {
                need = await SendNegotiation.ReceiveNeedListAsync(ctl, session, m.Chunks.Length, linked.Token).ConfigureAwait(false);
                data.Narrow(need, linked.Token);
            }

            progress.Plan(need);
            var control = Task.Run(() => ControlLoopAsync(ctl, m, progress, data, linked.Token), linked.Token);
            if (_progress is not null)
            {
                reporter = progress.ReportAsync(_progress, sw, linked.Token);
            }

            await data.RunAsync(control, _progress, linked.Token).ConfigureAwait(false);
            stall.Dispose();

            // Every chunk is confirmed: the receiver places and flushes the tree, then signs. That wait has
            // a deadline of its own (the stall limit plus 10 ms a file), or a peer that never sends the
            // receipt would hold this session, its slot and its open files until it hangs up.
            if (_options.StallTimeout > TimeSpan.Zero)
            {
                var receiptDeadline = _options.StallTimeout + TimeSpan.FromMilliseconds(10.0 * m.FileCount);
                try
                {
                    await control.WaitAsync(receiptDeadline, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException ex)
                {
                    Log.TransferStalled(_log, _peer.Name, m.RootName, $"{receiptDeadline.TotalSeconds:0.#} s (no receipt)");
                    throw new HaulException(ErrorCode.PeerUnreachable, $"the receiver confirmed every chunk but sent no receipt within {receiptDeadline.TotalSeconds:0.#} s", "run the same command again: the files already there are not sent twice", ex);
                }
            }

            var receipt = await control.ConfigureAwait(false);
            DebugTrace.Mark("send: receipt in");
            return (need, receipt);
        }
        catch (Exception ex) when (stall.Fired && !cancellationToken.IsCancellationRequested && ex is OperationCanceledException or HaulException { Code: ErrorCode.PeerWentAway } or IOException)
        {
            Log.TransferStalled(_log, _peer.Name, m.RootName, stall.LimitText);
            throw new HaulException(ErrorCode.PeerUnreachable, $"the receiver confirmed nothing for {stall.LimitText}; the transfer stopped", "check the link and run the same command again: it resumes where it stopped", ex);
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            try
            {
                await reporter.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Verifies the receiver's signed receipt for this manifest, says BYE, and stores the receipt and the journal's end.</summary>
    private async Task<Receipt> AcceptReceiptAsync(ControlChannel ctl, byte[] frame, X509Certificate2 peerCertificate, Manifest m, long journalId, CancellationToken cancellationToken)
    {
        var (body, sig) = Receipt.DecodeFrame(frame);
        var receipt = Receipt.DecodeBody(body);
        if (!NodeIdentity.Verify(peerCertificate, body, sig) || receipt.ManifestHash != m.Hash
            || receipt.ReceiverId != _peer.Id.Canonical || receipt.SenderId != _me.Id.Canonical)
        {
            throw new HaulException(ErrorCode.CorruptData, "the receipt from the peer does not verify", "do not trust this delivery; send again and report it");
        }

        CrashPoint.Reach("receipt-verified");
        try
        {
            await ctl.SendAsync(FrameType.Bye, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (HaulException)
        {
            // The receipt is in hand; a lost BYE changes nothing.
        }

        _store.AddReceipt(new ReceiptRecord(m.Hash.ToHex(), _peer.Id.Canonical, _peer.Name, receipt.Files, receipt.Bytes, receipt.DeliveredAt, body, sig));
        _store.FinishTransfer(journalId, "done");
        return receipt;
    }

    /// <summary>The receiver's frames in the data phase: confirmations to the progress and the data plane, until its receipt (returned).</summary>
    private static async Task<byte[]> ControlLoopAsync(ControlChannel ctl, Manifest m, SendProgress progress, FallbackDataPlane data, CancellationToken ct)
    {
        while (true)
        {
            var f = await ctl.ReceiveAsync(ct).ConfigureAwait(false);
            switch (f.Type)
            {
                case FrameType.ChunkDone:
                    var done = Messages.ChunkDone.Decode(f.Payload, m.Chunks.Length);
                    progress.ChunksDone(done.Chunks, done.FilesDone);
                    data.OnChunksDone(done.Chunks);
                    break;
                case FrameType.ChunkBad:
                    data.OnChunkBad(Messages.DecodeChunkIndex(f.Payload, m.Chunks.Length));
                    break;
                case FrameType.Receipt:
                    return f.Payload;
                default:
                    ThrowHelper.Protocol($"unexpected {f.Type} from the receiver");
                    break;
            }
        }
    }
}
