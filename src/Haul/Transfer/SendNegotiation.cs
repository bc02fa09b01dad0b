using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Haul.Content;
using Haul.Protocol;
using Haul.State;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>
/// The sender's side of agreeing a data session (docs/protocol.md): the OFFER (with a proposed session
/// and the data that leaves with it, where it may), the manifest, the receiver's answer (EARLY_ACCEPT or
/// ACCEPT), the keys and the UDP socket. Returns the <see cref="NegotiatedSession"/>; owns what it opened
/// (the proposal, the socket, the codecs: <see cref="Udp"/>) until disposed.
/// </summary>
internal sealed class SendNegotiation : IDisposable
{
    private readonly PeerRecord _peer;
    private readonly SendOptions _options;
    private readonly ILogger _log;
    private CancellationTokenSource? _udpStop;
    private ProposedStart? _proposal;
    private Socket? _socket;
    private PacketCodec? _seal;
    private PacketCodec? _open;

    public SendNegotiation(PeerRecord peer, SendOptions options, ILogger log)
    {
        _peer = peer;
        _options = options;
        _log = log;
    }

    /// <summary>The UDP link the session runs on (socket, codecs, an adopted proposal's plane); null: the data crosses the TLS connection.</summary>
    public UdpLink? Udp { get; private set; }

    /// <param name="remote">The control connection's remote address (where UDP goes unless the receiver names a host this node chose too).</param>
    /// <param name="udpGuess">Where the receiver serves UDP if it serves it on its TCP port: the data then starts with the OFFER. Null: no proposal.</param>
    /// <param name="cancellationToken">The send's token; it also stops the UDP data (<see cref="UdpLink.Stop"/> is linked to it).</param>
    public async Task<NegotiatedSession> RunAsync(ControlChannel ctl, IPAddress remote, ScannedTree tree, IPEndPoint? udpGuess, MemoryBudget.Account budget, CancellationToken cancellationToken)
    {
        var m = tree.Manifest;
        var (coding, manifestWire) = Messages.EncodeManifest(m.Encoded);

        // A sender that may use UDP welcomes an early accept: on a fresh delivery the receiver answers the
        // OFFER at once, and data starts while the manifest is still crossing (docs/protocol.md). Where it
        // knows the receiver's UDP port, it also proposes the session itself and starts the data with the
        // OFFER, a round trip before any answer (ProposeSession).
        bool welcome = !_options.ForceTcp;
        var secret = RandomNumberGenerator.GetBytes(32);
        _udpStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var zero = _proposal = welcome && _options.ProposeSession && udpGuess is not null && _options.UdpOverride is null
            ? ProposedStart.Create(secret, udpGuess, m, tree.Locations, _options.Rate, ctl.TcpRttSeconds(), budget, _udpStop.Token)
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
        var answer = early ?? new Messages.EarlyAccept(accept!.SessionId, accept.UdpPort, accept.ReceiverSecret, accept.UdpHost);
        var need = accept is null ? null : NeedList.From(accept);

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

        var keys = SessionKeys.Derive(secret, answer.ReceiverSecret, m.Hash);
        bool wantUdp = answer.UdpPort != 0 && !_options.ForceTcp && (early is not null || need!.Chunks.Length > 0);
        IPEndPoint? target = null;
        int pieceSize = DataFormat.SmallPiece;
        bool gso = false;
        if (adopted)
        {
            (target, pieceSize, gso) = (zero!.Target, zero.PieceSize, zero.Gso);
            Udp = new UdpLink(zero.Socket, zero.Seal, zero.Open, _udpStop, zero);
        }
        else if (wantUdp)
        {
            _seal = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt);
            _open = new PacketCodec(keys.ReceiverToSenderKey, keys.ReceiverToSenderSalt);
            (_socket, target, pieceSize, gso) = DataSocket.Open(_options.UdpOverride ?? new IPEndPoint(
                await UdpTarget.ResolveAsync(answer.UdpHost, remote, _peer.Address, _options.UdpHosts, _log, cancellationToken).ConfigureAwait(false),
                answer.UdpPort));
            Udp = new UdpLink(_socket, _seal, _open, _udpStop, null);
        }

        return new NegotiatedSession(answer.SessionId, secret, answer.ReceiverSecret, keys, answer.UdpPort, pieceSize, wantUdp, target, gso, early is not null, adopted, wasted, need);
    }

    /// <summary>After an EARLY_ACCEPT: the ACCEPT that follows START, with the need list; it must name the same session.</summary>
    public static async Task<NeedList> ReceiveNeedListAsync(ControlChannel ctl, NegotiatedSession session, int chunkCount, CancellationToken cancellationToken)
    {
        var accept = Messages.Accept.Decode((await ctl.ExpectAsync(FrameType.Accept, cancellationToken).ConfigureAwait(false)).Payload, chunkCount);
        DebugTrace.Mark("send: accepted");
        return session.NeedListFrom(accept);
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

    /// <summary>The proposal (adopted or abandoned), the socket and codecs this negotiation opened, and the UDP stop source.</summary>
    public void Dispose()
    {
        _seal?.Dispose();
        _open?.Dispose();
        _socket?.Dispose();
        _proposal?.Dispose();
        _udpStop?.Dispose();
    }
}
