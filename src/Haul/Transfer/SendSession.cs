using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
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
    private IPEndPoint? _udpGuess;

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
    /// peer dialled in on, where <paramref name="remote"/> is the address it came from.
    /// </summary>
    /// <param name="udpGuess">Where the receiver serves UDP if it serves it on its TCP port (the address this node
    /// dialled, for a receiver that takes session proposals): the data then starts with the OFFER. Null: no proposal.</param>
    public async Task<SendResult> RunAsync(ControlChannel ctl, IPAddress remote, System.Security.Cryptography.X509Certificates.X509Certificate2 peerCertificate, ScannedTree tree, CancellationToken cancellationToken, IPEndPoint? udpGuess = null)
    {
        _udpGuess = udpGuess;
        var sw = Stopwatch.StartNew();
        var m = tree.Manifest;
        string hex = m.Hash.ToHex();
        long journalId = _store.BeginTransfer("out", hex, _peer.Id.Canonical, m.RootName, m.FileCount, m.TotalBytes);

        var (coding, manifestWire) = Messages.EncodeManifest(m.Encoded);
        // A sender that may use UDP welcomes an early accept: on a fresh delivery the receiver answers the
        // OFFER at once, and data starts while the manifest is still crossing (docs/protocol.md). Where it
        // knows the receiver's UDP port, it also proposes the session itself and starts the data with the
        // OFFER, a round trip before any answer (ProposeSession).
        bool welcome = !_options.ForceTcp;
        var secret = RandomNumberGenerator.GetBytes(32);
        using var source = new ChunkSource(tree.Locations);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sendBudget = MemoryBudget.Sending.Open(_peer.Id);
        using var udpCts = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
        using var zero = welcome && _options.ProposeSession && _udpGuess is not null && _options.UdpOverride is null
            ? ProposedStart.Create(secret, _udpGuess, m, tree.Locations, _options.Rate, ctl.TcpRttSeconds(), sendBudget, udpCts.Token)
            : null;
        ctl.Enqueue(FrameType.Offer, new Messages.Offer(m.Hash, m.Encoded.Length, coding, manifestWire.Length, welcome, m.RootName, zero?.Proposal).Encode());
        if (welcome)
        {
            // HELLO and OFFER in a TLS record of their own, so the receiver can answer before the first
            // manifest part (a 16 KB record that does not fit TCP's first flight) has arrived.
            await ctl.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        if (zero is not null)
        {
            zero.Go();
            DebugTrace.Mark("send: data with the offer");
        }

        // The manifest, then the answer to the OFFER. Should either fail, data already sent with the OFFER
        // stops first.
        Messages.EarlyAccept? early = null;
        Messages.Accept? accept = null;
        try
        {
            var reply = await SendManifestAsync(ctl, manifestWire, cancellationToken).ConfigureAwait(false);
            if (reply.Type == FrameType.EarlyAccept && welcome)
            {
                early = Messages.EarlyAccept.Decode(reply.Payload);
                DebugTrace.Mark("send: early accept");
            }
            else if (reply.Type == FrameType.Accept)
            {
                accept = Messages.Accept.Decode(reply.Payload, m.Chunks.Length);
                DebugTrace.Mark("send: accepted");
            }
            else
            {
                ThrowHelper.Protocol($"expected {FrameType.Accept} but the peer sent {reply.Type}");
            }
        }
        catch when (zero is not null)
        {
            await zero.AbandonAsync().ConfigureAwait(false);
            throw;
        }

        // The session the data runs in: from the early accept, or from the accept (the same fields).
        var session = early ?? new Messages.EarlyAccept(accept!.SessionId, accept.UdpPort, accept.ReceiverSecret, accept.UdpHost);
        int[] needed = accept is null ? [] : Needed(accept);

        // The receiver took the proposed session (it does so only where it serves UDP at the address
        // dialled): the data already flowing goes on, under the keys it already has. Otherwise (a delta or
        // resume answered with ACCEPT, an id in use, UDP advertised elsewhere) that data went
        // nowhere: it stops, and the session the receiver gave starts under a fresh key half, so no packet
        // number is ever sealed twice under one key.
        bool adopted = zero is not null && early is not null && early.SessionId == zero.Proposal.SessionId
            && early.ReceiverSecret.AsSpan().SequenceEqual(zero.Proposal.ReceiverSecret);
        long wasted = 0;
        if (zero is not null && !adopted)
        {
            wasted = await zero.AbandonAsync().ConfigureAwait(false);
            secret = RandomNumberGenerator.GetBytes(32);
        }

        var keys = SessionKeys.Derive(secret, session.ReceiverSecret, m.Hash);
        using var seal = adopted ? zero!.Seal : new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt);
        using var open = adopted ? zero!.Open : new PacketCodec(keys.ReceiverToSenderKey, keys.ReceiverToSenderSalt);
        bool wantUdp = session.UdpPort != 0 && !_options.ForceTcp && (early is not null || needed.Length > 0);
        Socket? udp = adopted ? zero!.Socket : null;
        string? notice = null;
        int pieceSize = adopted ? zero!.PieceSize : DataFormat.SmallPiece;
        IPEndPoint? target = adopted ? zero!.Target : null;
        bool gso = adopted && zero!.Gso;
        if (wantUdp && !adopted)
        {
            (udp, target, pieceSize, gso) = DataSocket.Open(_options.UdpOverride ?? new IPEndPoint(
                await UdpTarget.ResolveAsync(session.UdpHost, remote, _peer.Address, _options.UdpHosts, _log, cancellationToken).ConfigureAwait(false),
                session.UdpPort));
        }

        var startFrame = new Messages.Start(secret, wantUdp ? Messages.DataMode.Udp : Messages.DataMode.Tcp, pieceSize).Encode();

        // Data follows START at once: no probe round trip first (the receiver keeps packets that overtake
        // START). The TCP connection's RTT seeds the data plane's, so its first retransmission timeout on a
        // long path is not a LAN default. If the receiver's acknowledgements never come back, UDP is
        // blocked somewhere and the data moves on the TLS connection instead (below). After an early
        // accept the data starts speculatively with every chunk, at most SpeculativeBytes of it, and the
        // ACCEPT that follows narrows it to the chunks the receiver lacks.
        int[] planned = early is not null ? [.. Enumerable.Range(0, m.Chunks.Length)] : needed;
        UdpSender? udpPlane = adopted ? zero!.Plane : udp is not null
            ? new UdpSender(udp, seal, open, session.SessionId, m, source, planned, new Congestion.PacingController(_options.Rate), gso, pieceSize, ctl.TcpRttSeconds(), speculative: early is not null) { Budget = sendBudget }
            : null;
        IDataPlane plane = udpPlane ?? (IDataPlane)new TcpSender(ctl, m, source, needed);
        string mode = udpPlane is not null ? (gso ? "udp+gso" : "udp") : "tcp";
        long bytesDone = 0;
        int filesDone = 0;
        var feedbackBeforeAccept = TimeSpan.Zero;
        var weight = new long[m.Chunks.Length];
        long chunkBytes = 0;

        var receiptTcs = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task control = Task.CompletedTask;
        Task reporter = Task.CompletedTask;
        Task run = adopted ? zero!.Run : Task.CompletedTask;

        // The data phase ends if the receiver stops moving it (see StallWatch): chunks confirmed for the first
        // time, bytes the TLS connection took; not frames (an empty CHUNK_DONE would hold it for ever). Waiting for the receipt once every chunk is done is
        // not watched (the receiver is placing and flushing the tree).
        using var stall = new StallWatch(_options.StallTimeout, linked.Cancel, () => Volatile.Read(ref plane).Progress + (udpPlane?.Progress ?? 0));
        try
        {
            if (early is not null)
            {
                await ctl.SendAsync(FrameType.Start, startFrame, linked.Token).ConfigureAwait(false);
                DebugTrace.Mark("send: started");
                if (udpPlane is not null && !adopted)
                {
                    run = plane.RunAsync(udpCts.Token);
                }

                accept = Messages.Accept.Decode((await ctl.ExpectAsync(FrameType.Accept, linked.Token).ConfigureAwait(false)).Payload, m.Chunks.Length);
                DebugTrace.Mark("send: accepted");
                if (udpPlane?.FirstFeedbackAt is > 0 and var heardAt)
                {
                    feedbackBeforeAccept = Stopwatch.GetElapsedTime(heardAt);
                }

                if (accept.SessionId != early.SessionId || !accept.ReceiverSecret.AsSpan().SequenceEqual(early.ReceiverSecret) || accept.UdpPort != early.UdpPort)
                {
                    ThrowHelper.Protocol("the accept does not match the early accept");
                }

                needed = Needed(accept);

                udpPlane?.Restrict(needed);
            }

            // Progress counts file bytes in place: a chunk that occurs k times is worth k × its length.
            foreach (var e in m.Entries)
            {
                foreach (var c in e.Chunks)
                {
                    weight[c] += m.Chunks[c].Length;
                }
            }

            long neededWeight = 0;
            foreach (var c in needed)
            {
                neededWeight += weight[c];
                chunkBytes += m.Chunks[c].Length;
            }

            bytesDone = m.TotalBytes - neededWeight;
            filesDone = accept!.FilesAlreadyDone;
            control = Task.Run(
                async () =>
                {
                    while (true)
                    {
                        var f = await ctl.ReceiveAsync(linked.Token).ConfigureAwait(false);
                        switch (f.Type)
                        {
                            case FrameType.ChunkDone:
                                var done = Messages.ChunkDone.Decode(f.Payload, m.Chunks.Length);
                                long add = 0;
                                foreach (var c in done.Chunks)
                                {
                                    add += weight[c];
                                }

                                Interlocked.Add(ref bytesDone, add);
                                Volatile.Write(ref filesDone, done.FilesDone);
                                Volatile.Read(ref plane).OnChunksDone(done.Chunks);
                                break;
                            case FrameType.ChunkBad:
                                Volatile.Read(ref plane).OnChunkBad(Messages.DecodeChunkIndex(f.Payload, m.Chunks.Length));
                                break;
                            case FrameType.Receipt:
                                receiptTcs.TrySetResult(f.Payload);
                                return;
                            default:
                                ThrowHelper.Protocol($"unexpected {f.Type} from the receiver");
                                break;
                        }
                    }
                },
                linked.Token);

            reporter = ReportAsync(() => Interlocked.Read(ref bytesDone), () => Volatile.Read(ref filesDone), m, () => Volatile.Read(ref mode), sw, linked.Token);
            if (early is null)
            {
                await ctl.SendAsync(FrameType.Start, startFrame, linked.Token).ConfigureAwait(false);
                DebugTrace.Mark("send: started");
                run = plane.RunAsync(udpPlane is not null ? udpCts.Token : linked.Token);
            }

            // The wait for acknowledgements starts once the receiver has its plan (after an early accept the
            // manifest may still have been crossing a lossy path when the data started).
            if (udpPlane is not null && !run.IsCompleted)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                var timeout = Task.Delay(_options.ProbeTimeout, wait.Token);
                var heard = await Task.WhenAny(udpPlane.FirstFeedback, run, control, timeout).ConfigureAwait(false);
                await wait.CancelAsync().ConfigureAwait(false);
                if (heard == timeout && !udpPlane.FirstFeedback.IsCompleted && !run.IsCompleted)
                {
                    await udpCts.CancelAsync().ConfigureAwait(false);
                    try
                    {
                        await run.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    udpPlane.Dispose();
                    udp!.Dispose();
                    udp = null;
                    notice = $"UDP to {target} is blocked or lost: falling back to the TLS connection (TCP)";
                    Log.Notice(_log, notice);
                    _progress?.Invoke(new TransferProgress("notice", Interlocked.Read(ref bytesDone), m.TotalBytes, Volatile.Read(ref filesDone), m.FileCount, 0, "tcp", notice));
                    // Every needed chunk again: the receiver drops any that did land.
                    var tcp = new TcpSender(ctl, m, source, needed);
                    Volatile.Write(ref plane, tcp);
                    Volatile.Write(ref mode, "tcp");
                    run = tcp.RunAsync(linked.Token);
                }
            }

            DebugTrace.Mark("send: data flowing");
            // Whichever ends first: the data plane (all chunks done), the control loop (receipt or error).
            var first = await Task.WhenAny(run, control).ConfigureAwait(false);
            await first.ConfigureAwait(false);
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

            await control.ConfigureAwait(false);
            DebugTrace.Mark("send: receipt in");
        }
        catch (Exception ex) when (stall.Fired && !cancellationToken.IsCancellationRequested && ex is OperationCanceledException or HaulException { Code: ErrorCode.PeerWentAway } or IOException)
        {
            Log.TransferStalled(_log, _peer.Name, m.RootName, stall.LimitText);
            throw new HaulException(ErrorCode.PeerUnreachable, $"the receiver confirmed nothing for {stall.LimitText}; the transfer stopped", "check the link and run the same command again: it resumes where it stopped", ex);
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            plane.Dispose();
            udp?.Dispose();
            try
            {
                await reporter.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            if (_store.TransferState(journalId) == "running")
            {
                _store.FinishTransfer(journalId, "interrupted");
            }
        }

        var (body, sig) = Receipt.DecodeFrame(await receiptTcs.Task.ConfigureAwait(false));
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

        _store.AddReceipt(new ReceiptRecord(hex, _peer.Id.Canonical, _peer.Name, receipt.Files, receipt.Bytes, receipt.DeliveredAt, body, sig));
        _store.FinishTransfer(journalId, "done");
        _progress?.Invoke(new TransferProgress("done", m.TotalBytes, m.TotalBytes, m.FileCount, m.FileCount, m.TotalBytes / Math.Max(sw.Elapsed.TotalSeconds, 1e-6), mode, notice));

        long wire = wasted + plane switch { UdpSender u => u.WireBytes, TcpSender t => t.WireBytes, _ => 0 };
        long packets = (plane as UdpSender)?.PacketsSent ?? 0;
        long retx = (plane as UdpSender)?.Retransmitted ?? 0;
        double srtt = (plane as UdpSender)?.SrttMs ?? 0;
        HaulMetrics.SendFinished(chunkBytes, wire, packets, retx, m.TotalBytes, sw.Elapsed, srtt);
        return new SendResult(receipt, _peer.Name, sw.Elapsed, m.TotalBytes, m.FileCount, chunkBytes, accept.ReusedBytes, wire, packets, retx, mode, srtt, early is not null, adopted, feedbackBeforeAccept);
    }

    /// <summary>The manifest in 1 MiB parts, then the receiver's answer to the OFFER.</summary>
    private static async Task<Frame> SendManifestAsync(ControlChannel ctl, byte[] manifestWire, CancellationToken ct)
    {
        const int part = 1 << 20;
        for (int off = 0; off < manifestWire.Length; off += part)
        {
            int n = Math.Min(part, manifestWire.Length - off);
            var w = new WireWriter(n + 8).U64((ulong)off).Bytes(manifestWire.AsSpan(off, n));
            await ctl.SendAsync(FrameType.ManifestPart, w, ct).ConfigureAwait(false);
        }

        DebugTrace.Mark($"send: manifest sent ({manifestWire.Length} bytes on the wire)");
        return await ctl.ReceiveAsync(ct).ConfigureAwait(false);
    }

    private static int[] Needed(Messages.Accept accept)
    {
        var needed = new List<int>();
        foreach (var (s, c) in accept.Need)
        {
            for (int i = 0; i < c; i++)
            {
                needed.Add(s + i);
            }
        }

        return [.. needed];
    }

    private async Task ReportAsync(Func<long> bytes, Func<int> files, Manifest m, Func<string> mode, Stopwatch sw, CancellationToken ct)
    {
        if (_progress is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        long lastBytes = bytes();
        double lastT = sw.Elapsed.TotalSeconds;
        double rate = 0;
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            long b = bytes();
            double t = sw.Elapsed.TotalSeconds;
            double inst = (b - lastBytes) / Math.Max(t - lastT, 1e-3);
            rate = rate == 0 ? inst : (0.7 * rate) + (0.3 * inst);
            (lastBytes, lastT) = (b, t);
            _progress(new TransferProgress("transfer", b, m.TotalBytes, files(), m.FileCount, rate, mode()));
        }
    }
}
