using System.Net;
using System.Threading.Channels;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.State;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>
/// The receiving half of one transfer: takes the manifest, works out what is already here (journal,
/// files in place, identical chunks in existing files), asks for the rest, verifies and writes each
/// chunk into temporary files, moves every completed file into place atomically and signs a receipt.
/// Split by concern: this file is the control flow, .Udp the packet path, .Write the write loop;
/// <see cref="ReceivePlanner"/> decides what is here already, <see cref="TreePlacer"/> places what is complete.
/// </summary>
internal sealed partial class ReceiveSession : IUdpSession
{
    private readonly ControlChannel _ctl;
    private readonly INodeCatalog _store;
    private readonly NodeIdentity _me;
    private readonly PeerRecord _peer;
    private readonly string _root;
    private readonly ReceiveOptions _options;
    private readonly IChunkCache? _chunkCache;
    private readonly UdpEndpoint? _udp;
    private readonly bool _earlyAccept;
    private Messages.SessionProposal? _proposal;
    private SessionKeys? _proposalKeys; // derived once, when the proposal is taken (its OFFER has all inputs)
    private readonly string _udpAdvertiseHost;
    private readonly ILogger _log;
    private readonly Channel<CompletedChunk> _toWriter = Channel.CreateUnbounded<CompletedChunk>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _allWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Manifest _manifest = null!;
    private ReceivePlan _plan = null!;
    private ChunkStates _states = new(0); // the planner's, from the plan on
    private long _transferId;
    private string _partialDir = string.Empty;
    private long _neededBytes;
    private int _filesInPlace;
    private ReceiveGuard? _guard;

    /// <param name="ctl">The control connection the OFFER came on.</param>
    /// <param name="peer">The sending peer, authenticated.</param>
    /// <param name="node">What the node lends every receive: catalog, identity, UDP endpoint, chunk cache, log.</param>
    /// <param name="options">Where this receive places its files and what it may reuse.</param>
    public ReceiveSession(ControlChannel ctl, PeerRecord peer, ReceiveNode node, ReceiveOptions options)
    {
        _ctl = ctl;
        _peer = peer;
        _store = node.Store;
        _me = node.Me;
        _log = node.Log;
        _udp = node.Udp;
        _udpAdvertiseHost = node.UdpAdvertiseHost;
        _chunkCache = node.ChunkCache;
        _root = options.Root;
        _options = options;
        _earlyAccept = options.EarlyAccept;
    }

    /// <summary>Runs the transfer that <paramref name="offerFrame"/> opened. Errors are reported to the sender and rethrown.</summary>
    public async Task RunAsync(Frame offerFrame, CancellationToken cancellationToken)
    {
        // Ends the session when the sender stops moving it (see StallWatch). What counts is progress, not
        // traffic: each manifest part and START (Moved below), then new pieces, CHUNK_DATA for a chunk still
        // needed and chunks written. A sender re-sending a written chunk as CHUNK_DATA, or any frame, every
        // few seconds held a receive (and the buffers of its unfinished chunks) for ever. The receiver's own
        // work (checking what is here, writing, placing) pauses it.
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _stall = new StallWatch(
            StallTimeout,
            stalled.Cancel,
            () => Volatile.Read(ref _freshPieces) + Interlocked.Read(ref _tcpChunksIn) - _states.Remaining);
        try
        {
            await RunCoreAsync(offerFrame, stalled.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (Classify(ex) is not null || StalledOut(ex, cancellationToken))
        {
            var hx = StalledOut(ex, cancellationToken) ? Stalled(ex) : Classify(ex)!;
            if (hx.Code != ErrorCode.PeerWentAway)
            {
                await _ctl.SendErrorAsync(hx, CancellationToken.None).ConfigureAwait(false);
            }

            if (ReferenceEquals(hx, ex))
            {
                throw;
            }

            throw hx;
        }
        finally
        {
            _stall?.Dispose();
            _assembly?.Dispose();
            _chunkCache?.Flush();
            _udp?.Unregister(_sessionId);
            _toWriter.Writer.TryComplete();
            _placer?.Dispose();
            if (_transferId != 0 && _store.TransferState(_transferId) == "running")
            {
                _store.FinishTransfer(_transferId, "interrupted");
            }

            _s2r?.Dispose();
            _r2s?.Dispose();
            _preplan?.Dispose();
            _guard?.Dispose(); // last: a retry may start the moment it is released
        }
    }

    /// <summary>How long the sender may leave this transfer without moving it (nothing sent, nothing new) before it ends.</summary>
    internal TimeSpan StallTimeout { get; init; } = DefaultStallTimeout;

    /// <summary>Five minutes: a link cut for a minute or two survives; a peer that holds a session silent does not.</summary>
    internal static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromMinutes(5);

    private StallWatch? _stall;
    private long _tcpChunksIn; // CHUNK_DATA frames for chunks still needed
    private int _superseded; // chunks taken from TCP while assembling from UDP: the receive thread drops their assemblies

    /// <summary>The session ended because the stall watch fired (not because the node stopped): whatever the wait threw.</summary>
    private bool StalledOut(Exception ex, CancellationToken outer) =>
        _stall?.Fired == true && !outer.IsCancellationRequested && ex is OperationCanceledException or HaulException { Code: ErrorCode.PeerWentAway } or IOException;

    private HaulException Stalled(Exception inner)
    {
        Log.TransferStalled(_log, _peer.Name, _manifest?.RootName ?? "?", _stall!.LimitText);
        return new HaulException(ErrorCode.PeerUnreachable, $"the sender moved nothing for {_stall.LimitText}; the transfer stopped", "check the link and run the send again: it resumes where it stopped", inner);
    }

    private async Task RunCoreAsync(Frame offerFrame, CancellationToken ct)
    {
        _assembly = MemoryBudget.Receiving.Open(_peer.Id);
        var offer = Messages.Offer.Decode(offerFrame.Payload);
        _guard = ReceiveGuard.TryTake(_peer.Id.Canonical, offer.ManifestHash, _root);
        if (_guard is null)
        {
            Log.RefusedBusy(_log, offer.ManifestHash.ToHex()[..16], _peer.Name, _root);
            throw new HaulException(ErrorCode.TransferBusy, "this node is already receiving the same transfer", "wait for it to finish, then send again (what it placed is not sent twice)");
        }

        byte[]? receiverSecret = null;
        if (offer.EarlyWelcome && _earlyAccept && _udp is not null && IsFresh(offer))
        {
            // Nothing by this name here and no partial transfer of this manifest: the sender will almost
            // surely need every chunk, so it may start now. Its packets are kept sealed until START and
            // the plan are in (bounded, as for packets that overtake START).
            // A session the sender proposed (and already sends in) is taken when its id is free.
            // Only where this node serves UDP at the address the sender dialled (no --udp-advertise).
            receiverSecret = offer.Proposal is { } p && _udpAdvertiseHost.Length == 0 && _udp.TryRegister(p.SessionId, this) ? Adopt(p, offer.ManifestHash) : OpenSession();
            await _ctl.SendAsync(FrameType.EarlyAccept, new Messages.EarlyAccept(_sessionId, (ushort)_udp.LocalEndPoint.Port, receiverSecret, _udpAdvertiseHost).Encode(), ct).ConfigureAwait(false);
            DebugTrace.Mark("receive: early accept sent");
        }

        // The OFFER's lengths are bounded (Offer.Decode); the buffer grows only with parts that arrive.
        var parts = new ManifestParts(offer.BytesOnWire);
        while (!parts.IsComplete)
        {
            var f = await _ctl.ExpectAsync(FrameType.ManifestPart, ct).ConfigureAwait(false);
            parts.Add(f.Payload);
            _stall!.Moved();
        }

        byte[] encoded;
        using (_stall!.Pause())
        {
            encoded = Messages.DecodeManifest(offer.Coding, parts.Wire, offer.Length);
            if (Hash256.Of(encoded) != offer.ManifestHash)
            {
                throw new HaulException(ErrorCode.CorruptData, "the manifest does not match its hash", "run the send again");
            }

            DebugTrace.Mark("receive: manifest received");
            _manifest = ManifestCodec.Decode(encoded);
            if (Requested is { } asked)
            {
                RefuseUnrequested(asked);
            }
        }

        _plan = new ReceivePlan(_manifest);
        string hex = _manifest.Hash.ToHex();
        Log.Receiving(_log, _manifest.RootName, _peer.Name, _manifest.FileCount, _manifest.TotalBytes, hex[..16]);

        Directory.CreateDirectory(_root);
        _partialDir = PartialDir(_manifest.Hash);
        _placer = new TreePlacer(_plan, _options, _partialDir, _chunkCache);
        Directory.CreateDirectory(_partialDir);
        _transferId = _store.BeginTransfer("in", hex, _peer.Id.Canonical, _manifest.RootName, _manifest.FileCount, _manifest.TotalBytes);

        DebugTrace.Mark("receive: manifest decoded");
        ReceivePlanning planning;
        using (_stall!.Pause())
        {
            planning = new ReceivePlanner(_plan, _options, _store, _chunkCache, _log).Plan(_transferId, _peer.Id, _peer.Name, _placer);
        }

        _states = planning.States;
        _filesInPlace = planning.FilesInPlace;

        DebugTrace.Mark("receive: existing data checked");
        (var need, _neededBytes) = _states.CountNeeded(_manifest.Chunks);

        ushort port = (ushort)(_udp?.LocalEndPoint.Port ?? 0);
        receiverSecret ??= OpenSession();
        var accept = new Messages.Accept(_sessionId, port, receiverSecret, need, planning.ReusedBytes, FilesDone, _udpAdvertiseHost);
        await _ctl.SendAsync(FrameType.Accept, accept.Encode(), ct).ConfigureAwait(false);

        // A session this receiver took from the OFFER already has its keys and piece size: its data is
        // placed from now on, a round trip before START arrives (which must then agree). Otherwise START
        // brings them.
        Task? writer = null;
        if (_proposal is { } taken)
        {
            writer = Task.Run(() => WriteLoopAsync(ct), ct);
            InstallKeys(_proposalKeys!, taken.PieceSize);
            DebugTrace.Mark("receive: placing the proposed session's data");
        }

        var start = Messages.Start.Decode((await _ctl.ExpectAsync(FrameType.Start, ct).ConfigureAwait(false)).Payload);
        _stall!.Moved();
        if (_proposal is { } agreed)
        {
            if (!start.SenderSecret.AsSpan().SequenceEqual(agreed.SenderSecret) || start.PieceSize != agreed.PieceSize)
            {
                ThrowHelper.Protocol("START does not match the session proposed with the OFFER");
            }
        }
        else
        {
            InstallKeys(SessionKeys.Derive(start.SenderSecret, receiverSecret, _manifest.Hash), start.PieceSize);
        }

        if (start.Mode != Messages.DataMode.Udp || _udp is null)
        {
            Log.DataOverTls(_log, _manifest.RootName);
        }

        writer ??= Task.Run(() => WriteLoopAsync(ct), ct);
        if (_states.Remaining == 0)
        {
            _allWritten.TrySetResult();
        }

        using var controlCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var control = ControlLoopAsync(controlCts.Token);
        var first = await Task.WhenAny(_allWritten.Task, control, writer).ConfigureAwait(false);
        if (first != _allWritten.Task)
        {
            // The sender went away or the writer failed: keep temporary files and journal for resume.
            _toWriter.Writer.TryComplete();
            await first.ConfigureAwait(false);
            await writer.ConfigureAwait(false);
            throw new HaulException(ErrorCode.PeerWentAway, "the sender stopped before the transfer finished", "run the send again to resume");
        }

        _toWriter.Writer.TryComplete();
        await writer.ConfigureAwait(false);
        DebugTrace.Mark("receive: all written");
        _stall!.Dispose(); // from here on the work is this node's own (placing, flushing, signing)
        _placer.FinishTree();
        DebugTrace.Mark("receive: tree finalized");

        var receipt = new Receipt(_manifest.Hash, _peer.Id.Canonical, _me.Id.Canonical, _manifest.FileCount, _manifest.TotalBytes, DateTimeOffset.UtcNow);
        var body = receipt.EncodeBody();
        DurabilityProbe?.Invoke(_root, "sign");
        var sig = _me.Sign(body);
        _store.FinishTransfer(_transferId, "done");
        _store.ForgetChunks(_transferId);

        // Done and durable: the same manifest may be offered again now (a resend right after this one
        // finds it all in place) while this session waits for BYE. Its journal row is that transfer's now.
        _transferId = 0;
        _guard?.Dispose();
        _guard = null;
        CrashPoint.Reach("receipt-signed");
        HaulMetrics.ReceiveFinished(_neededBytes);
        await _ctl.SendAsync(FrameType.Receipt, Receipt.EncodeFrame(body, sig), ct).ConfigureAwait(false);
        Log.Received(_log, _manifest.RootName, _peer.Name, _manifest.FileCount, _manifest.TotalBytes, _s2r!.Forged, _s2r.Replayed, _dupPieces, _badChunks, _early.Placed);

        // Wait briefly for BYE so the sender has read the receipt before the socket closes.
        controlCts.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await control.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HaulException or OperationCanceledException)
        {
        }
    }

    private async Task ControlLoopAsync(CancellationToken ct)
    {
        while (true)
        {
            var f = await _ctl.ReceiveAsync(ct).ConfigureAwait(false);
            switch (f.Type)
            {
                case FrameType.Bye:
                    return;
                case FrameType.ChunkData:
                    await OnTcpChunkAsync(f.Payload, ct).ConfigureAwait(false);
                    break;
                default:
                    ThrowHelper.Protocol($"unexpected {f.Type} during the data phase");
                    break;
            }
        }
    }

    /// <summary>
    /// A chunk over TCP, queued for the writer under the same budget as chunks assembled from UDP: until
    /// there is room the connection is not read (TCP's flow control holds the sender). Unbudgeted, a sender
    /// outrunning a slow writer grew a receiver by 385 MiB while the budget counted nothing.
    /// </summary>
    private async Task OnTcpChunkAsync(byte[] payload, CancellationToken ct)
    {
        var (c, len) = TcpChunkHeader(payload);

        // A chunk part-assembled from UDP is taken too: after a fallback to TCP (acknowledgements lost, data
        // not) the sender sends it whole here and never again over UDP; dropped as a duplicate, it never
        // completed and the send ended at the stall deadline, every time. Its assembly is let go by the
        // receive thread (DropSuperseded); meanwhile the budget may run over by this chunk, as waiting for
        // room that assembly holds could wait for ever.
        var st = _states[(int)c];
        if (st == ChunkState.Needed)
        {
            while (!_assembly!.TryTake(len, AssemblyBudget))
            {
                await Task.Delay(10, ct).ConfigureAwait(false);
                st = _states[(int)c];
                if (st != ChunkState.Needed)
                {
                    break;
                }
            }
        }

        if (st == ChunkState.Assembling)
        {
            _assembly!.Take(len);
        }
        else if (st != ChunkState.Needed)
        {
            Interlocked.Increment(ref _dupPieces);
            return;
        }

        if (!_states.TryMove((int)c, st, ChunkState.Complete))
        {
            _assembly!.Return(len); // the receive thread moved it meanwhile
            Interlocked.Increment(ref _dupPieces);
            return;
        }

        if (st == ChunkState.Assembling)
        {
            Interlocked.Increment(ref _superseded);
        }

        Interlocked.Increment(ref _tcpChunksIn);
        var buf = new byte[len];
        payload.AsSpan(4, len).CopyTo(buf);
        _toWriter.Writer.TryWrite(new CompletedChunk((int)c, buf, len, false));
    }

    /// <summary>A CHUNK_DATA frame's chunk index and data length, checked against the manifest.</summary>
    private (uint Chunk, int Length) TcpChunkHeader(byte[] payload)
    {
        var r = new SpanReader(payload);
        uint c = r.U32();
        if (c >= (uint)_states.Count)
        {
            ThrowHelper.Protocol($"chunk index {c} is out of range");
        }

        int len = r.Remaining;
        if (len != _manifest.Chunks[c].Length)
        {
            ThrowHelper.Protocol($"chunk {c} has the wrong length");
        }

        return (c, len);
    }

    /// <summary>
    /// No file or folder by the offer's name at the destination, and no partial transfer of this manifest.
    /// A tree without a root name (a folder sync's push, whose paths start at the target) is fresh when
    /// the target does not exist yet or is empty: a first sync into a new place.
    /// </summary>
    private bool IsFresh(Messages.Offer offer)
    {
        string name = offer.RootName;
        if (name.Length == 0)
        {
            return !Directory.Exists(_root) || !Directory.EnumerateFileSystemEntries(_root).Any();
        }

        if (name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            return false;
        }

        string path = Path.Combine(_root, name);
        return !File.Exists(path) && !Directory.Exists(path) && !Directory.Exists(PartialDir(offer.ManifestHash));
    }

    /// <summary>Where a manifest's temporary files and journal-backed chunks live until it completes.</summary>
    private string PartialDir(Hash256 manifest) => ReceiveGuard.PartialDirOf(_root, manifest);

    /// <summary>
    /// A new session id and the receiver's key half, listened for before the sender hears of them: its
    /// data may overtake START (or, after an early accept, the receiver's plan).
    /// </summary>
    private byte[] OpenSession()
    {
        do
        {
            _sessionId = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        }
        while (_udp is not null && !_udp.TryRegister(_sessionId, this));

        return System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    }

    private void InstallKeys(SessionKeys keys, int pieceSize)
    {
        // A taken proposal has sealed acknowledgements since the OFFER: its codec (and packet numbers) go on.
        _r2s ??= new PacketCodec(keys.ReceiverToSenderKey, keys.ReceiverToSenderSalt);
        _assembler = new ChunkAssembler(_manifest.Chunks, pieceSize, _assembly, AssemblyBudget);
        Volatile.Write(ref _s2r, new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt)); // last: the receive thread reads it first
    }

    /// <summary>
    /// Takes the session the sender proposed. Its keys are known now (both halves and the manifest hash
    /// are in the OFFER), so its packets are authenticated and acknowledged from the first one, while
    /// the manifest is still crossing: the sender's rate control starts a round trip or more before the
    /// plan is made. The data itself is kept sealed and placed once the plan is in.
    /// </summary>
    private byte[] Adopt(Messages.SessionProposal p, Hash256 manifestHash)
    {
        _sessionId = p.SessionId;
        _proposal = p;
        var keys = _proposalKeys = SessionKeys.Derive(p.SenderSecret, p.ReceiverSecret, manifestHash);
        _r2s = new PacketCodec(keys.ReceiverToSenderKey, keys.ReceiverToSenderSalt);
        Volatile.Write(ref _preplan, new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt)); // last: the receive thread reads it first
        DebugTrace.Mark("receive: sender's session taken");
        return p.ReceiverSecret;
    }

    /// <summary>
    /// The files a pull asked for: the owner's answer may hold those regular files and nothing else.
    /// A hostile owner answered a pull of one file with a manifest that also planted
    /// '.git/hooks/post-checkout' and overwrote a file the filters excluded. Null: a peer's push or send.
    /// </summary>
    public IReadOnlySet<string>? Requested { get; init; }

    private void RefuseUnrequested(IReadOnlySet<string> asked)
    {
        foreach (var e in _manifest.Entries)
        {
            if (e.Kind != EntryKind.File || !asked.Contains(e.Path))
            {
                Log.Unrequested(_log, _peer.Name, e.Path);
                throw new HaulException(ErrorCode.UnsafePath, $"the peer answered a pull with '{e.Path}', which was not asked for", "the owner's node is misbehaving; nothing was written");
            }
        }
    }

    private static HaulException? Classify(Exception ex) => ex switch
    {
        HaulException h => h,
        UnauthorizedAccessException u => new HaulException(ErrorCode.PermissionDenied, $"the receiver cannot write: {u.Message}", "fix permissions on the receiving node's inbox", u),
        IOException io when IoErrors.IsDiskFull(io) => new HaulException(ErrorCode.DiskFull, "the receiver's disk is full", "free space on the receiving node, then send again: finished chunks are kept", io),
        IOException io when IoErrors.IsReadOnlyFileSystem(io) => new HaulException(ErrorCode.PermissionDenied, "the receiver's destination is on a read-only file system", "remount it read-write (or choose another inbox or folder) on the receiving node, then send again", io),
        IOException io => new HaulException(ErrorCode.Internal, $"the receiver hit an I/O error: {io.Message}", "check the receiving node's disk", io),
        _ => null,
    };

}
