using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.Transfer;
using Haul.Transport;

namespace Haul.Node;

/// <summary>An authenticated control connection to a peer; its HELLO is read with the first answer (see <see cref="ControlChannel.DeferFirst"/>).</summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    private PeerConnection(ControlChannel channel, X509Certificate2 peerCertificate, IPEndPoint remote, bool takesProposals)
    {
        Channel = channel;
        PeerCertificate = peerCertificate;
        Remote = remote;
        TakesProposals = takesProposals;
    }

    public ControlChannel Channel { get; }

    public X509Certificate2 PeerCertificate { get; }

    public IPEndPoint Remote { get; }

    /// <summary>The peer negotiated "haul/1.1": its OFFER parser takes a session proposal (older nodes refuse the OFFER).</summary>
    public bool TakesProposals { get; }

    public static Task<PeerConnection> ConnectAsync(NodeIdentity me, string myName, NodeId peer, string address, bool join, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ConnectAsync(me, myName, peer, address, join, timeout, streamFilter: null, cancellationToken);

    /// <param name="streamFilter">Wraps the authenticated stream the frames cross (tests: a slow path); null: none.</param>
    public static async Task<PeerConnection> ConnectAsync(NodeIdentity me, string myName, NodeId peer, string address, bool join, TimeSpan timeout, Func<Stream, Stream>? streamFilter, CancellationToken cancellationToken = default)
    {
        // Two sources of cancellation: the caller's token and the connect timeout.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var (host, port) = HostPort.Split(address);
        DebugTrace.Mark("connect: dialling");
        TlsSetup.WarmUp(me.Certificate);
        var tcp = new TcpClient { NoDelay = true };
        TcpFastOpen.EnableClient(tcp.Client);
        try
        {
            await tcp.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            tcp.Dispose();
            throw new HaulException(ErrorCode.PeerUnreachable, $"cannot reach {address}: {(ex is SocketException se ? se.SocketErrorCode.ToString() : "timed out")}", "check that 'haul serve' runs there and the address and port are right", ex);
        }

        DebugTrace.Mark("connect: TCP connected");
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(TlsSetup.Client(me, peer, join), cts.Token).ConfigureAwait(false);
            DebugTrace.Mark("connect: TLS done");

            // Read only now: with a Fast Open cookie the connect returned before the SYN left, and the
            // socket has no peer address until the handshake is under way.
            var remote = (IPEndPoint)tcp.Client.RemoteEndPoint!;
            var channel = new ControlChannel(streamFilter?.Invoke(ssl) ?? ssl, tcp.Client);
            channel.Enqueue(FrameType.Hello, new Messages.Hello(Messages.ProtocolVersion, myName, Version).Encode());

            // HELLO goes out with the caller's first request, in the same write, and the peer's HELLO is
            // read with the first answer the caller waits for, not here: that saves a round trip (0.6 s on a satellite path). In
            // TLS 1.3 the server checks this node's certificate after the client's handshake is done, so
            // until that HELLO arrives, the connection closing means the server refused this node.
            channel.DeferFirst(
                FrameType.Hello,
                f => Messages.Hello.Decode(f.Payload),
                ex => ex switch
                {
                    AuthenticationException a => NotTrusted(me, address, peer, a),
                    HaulException { Code: ErrorCode.PeerWentAway } h => Refused(me, address, h),
                    _ => null,
                });
            var cert = new X509Certificate2(ssl.RemoteCertificate!);
            return new PeerConnection(channel, cert, remote, TlsSetup.TakesProposals(ssl.NegotiatedApplicationProtocol));
        }
        catch (AuthenticationException ex)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw NotTrusted(me, address, peer, ex);
        }
        catch (HaulException ex) when (ex.Code == ErrorCode.PeerWentAway)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw Refused(me, address, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new HaulException(ErrorCode.PeerUnreachable, $"{address} did not complete the handshake in time", "check that 'haul serve' runs there", ex);
        }
        catch (IOException ex) when (ex.InnerException is SocketException se)
        {
            // With a Fast Open cookie the connect returns at once and the SYN leaves with the first
            // write, so an unreachable peer shows here rather than in ConnectAsync.
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new HaulException(ErrorCode.PeerUnreachable, $"cannot reach {address}: {se.SocketErrorCode}", "check that 'haul serve' runs there and the address and port are right", ex);
        }
    }

    private static HaulException NotTrusted(NodeIdentity me, string address, NodeId peer, Exception ex) =>
        new(ErrorCode.NotTrusted, $"TLS handshake with {address} failed: the node there is not {peer} or does not trust this node", "check the node ID, or ask its owner to run 'haul peer add' with this node's ID ('haul id')", ex);

    private static HaulException Refused(NodeIdentity me, string address, Exception ex) =>
        new(ErrorCode.NotTrusted, $"{address} closed the connection during the handshake: it does not trust this node ({me.Id})", "ask its owner to run 'haul peer add " + me.Id + "' or pair with 'haul invite'/'haul join'", ex);

    public static string Version => typeof(PeerConnection).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync().ConfigureAwait(false);
        PeerCertificate.Dispose();
    }
}

/// <summary>A send over a connection this node dialled (the transfer engine takes the channel, not the connection).</summary>
internal static class PeerConnectionSends
{
    public static Task<SendResult> RunAsync(this SendSession session, PeerConnection conn, ScannedTree tree, CancellationToken cancellationToken) =>
        // A node serves UDP on its TCP port unless it advertises otherwise: where a session proposal sends
        // its first data before any answer. Only to a peer that negotiated the protocol revision with
        // proposals (ALPN "haul/1.1"): a node of the first revision refuses an OFFER with fields it does not know.
        session.RunAsync(conn.Channel, conn.Remote.Address, conn.PeerCertificate, tree, cancellationToken, conn.TakesProposals ? conn.Remote : null);
}
