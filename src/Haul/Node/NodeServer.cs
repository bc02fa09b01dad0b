using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Haul.Protocol;
using Haul.Security;
using Haul.State;
using Haul.Transfer;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Node;

/// <summary>
/// The headless node: accepts TLS control connections (trusted peers only, except one JOIN exchange
/// per invite) and owns the UDP data socket on the same port number.
/// </summary>
internal sealed class NodeServer : IAsyncDisposable
{
    private readonly NodeIdentity _me;
    private readonly INodeCatalog _store;
    private readonly ServeOptions _options;
    private readonly ILogger _log;
    private readonly string _name;
    private readonly string _inbox;
    private readonly string _home;
    private readonly State.ChunkCache _chunks;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConnectionLimiter _limiter;
    private readonly TransferSlots _slots;

    /// <summary>The chunk index the server's sessions use (the node's own; tests).</summary>
    internal State.ChunkCache Chunks => _chunks;

    /// <summary>Transfers running per peer (tests).</summary>
    internal TransferSlots Slots => _slots;
    private int _refusedSinceLog;
    private long? _lastRefusalLog;
    private TcpListener? _listener;
    private UdpEndpoint? _udp;
    private Task _accept = Task.CompletedTask;

    /// <param name="chunks">The node's chunk index, owned by the node (one per process: one write queue on chunks.db).</param>
    public NodeServer(string home, NodeIdentity me, INodeCatalog store, State.ChunkCache chunks, ServeOptions options, ILoggerFactory loggers)
    {
        _me = me;
        _store = store;
        _options = options;
        _log = loggers.CreateLogger("haul.node");
        _name = store.GetMeta("name") ?? "haul";
        _inbox = Path.GetFullPath(options.Inbox ?? HaulHome.DefaultInbox(home));
        _home = home;
        _chunks = chunks;
        _slots = new TransferSlots(options.MaxReceivesPerPeer, options.MaxSendsPerPeer);
        _limiter = new ConnectionLimiter(options.MaxConnections, options.MaxUnauthenticated, options.MaxUnauthenticatedPerAddress, options.MaxConnectionsPerPeer);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener!.LocalEndpoint;

    /// <summary>The listening socket (tests check its options).</summary>
    internal Socket ListenSocket => _listener!.Server;

    public IPEndPoint? UdpEndPoint => _udp?.LocalEndPoint;

    public string Inbox => _inbox;

    public void Start()
    {
        TlsSetup.WarmUp(_me.Certificate);
        _listener = new TcpListener(_options.Listen);
        if (_options.Listen.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _listener.Server.DualMode = true;
        }

        TcpFastOpen.EnableServer(_listener.Server);

        try
        {
            _listener.Start(512);
        }
        catch (SocketException ex)
        {
            throw new HaulException(ErrorCode.Usage, $"cannot listen on {_options.Listen}: {ex.SocketErrorCode}", "pick another --listen port or stop what uses it", ex);
        }

        var bound = LocalEndPoint;
        if (!_options.NoUdp)
        {
            _udp = new UdpEndpoint(new IPEndPoint(_options.Listen.Address, bound.Port), _log);
        }

        Directory.CreateDirectory(_inbox);
        _store.SetMeta("listen", bound.ToString());
        Log.Serving(_log, _name, _me.Id, bound, _udp?.LocalEndPoint.ToString() ?? "off", _udp?.GroEnabled ?? false, _inbox);
        _accept = AcceptLoopAsync(_stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        try
        {
            await _accept.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _udp?.Dispose();
        _chunks.Flush(); // the node owns it and disposes it
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener!.AcceptTcpClientAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || ct.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                Log.AcceptFailed(_log, ex.SocketErrorCode);
                continue;
            }

            IPEndPoint remote;
            try
            {
                remote = (IPEndPoint)client.Client.RemoteEndPoint!;
            }
            catch (SocketException)
            {
                client.Dispose(); // gone already
                continue;
            }

            var lease = _limiter.TryAdmit(remote.Address, out string? refusal);
            if (lease is null)
            {
                Refuse(client, remote, refusal!);
                continue;
            }

            _ = Task.Run(() => HandleAsync(client, remote, lease, ct), ct);
        }
    }

    /// <summary>Closes a connection over the caps at once (a reset, nothing kept); logged at most every 10 s, with the count since.</summary>
    private void Refuse(TcpClient client, IPEndPoint remote, string reason)
    {
        try
        {
            client.Client.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        client.Dispose();
        _refusedSinceLog++;
        long now = Environment.TickCount64;
        if (_lastRefusalLog is not { } last || now - last >= 10_000)
        {
            Log.ConnectionsRefused(_log, _refusedSinceLog, remote, reason);
            _refusedSinceLog = 0;
            _lastRefusalLog = now;
        }
    }

    private static void KeepAlive(Socket s)
    {
        // A peer that vanished (power cut, NAT forgot it) during a long silent phase is found within
        // about two minutes instead of holding its connection forever.
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 60);
            s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
            s.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 6);
        }
        catch (SocketException)
        {
        }
    }

    private async Task HandleAsync(TcpClient client, IPEndPoint remote, ConnectionLimiter.Lease lease, CancellationToken ct)
    {
        using var admitted = lease;
        client.NoDelay = true;
        KeepAlive(client.Client);
        var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        NodeId seen = default;
        bool joinMode = false;
        try
        {
            using (var hs = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                hs.CancelAfter(_options.HandshakeTimeout);
                await ssl.AuthenticateAsServerAsync(
                    (_, hello, _, _) =>
                    {
                        joinMode = hello.ServerName == TlsSetup.JoinHost && _store.HasPendingInvites();
                        return ValueTask.FromResult(TlsSetup.Server(_me, id =>
                        {
                            seen = id;
                            return joinMode || _store.FindPeer(id) is not null;
                        }, _options.FirstRevisionOnly));
                    },
                    null,
                    hs.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            if (seen != default && _store.FindPeer(seen) is null)
            {
                Log.RefusedUntrusted(_log, remote, seen);
            }
            else if (ex is OperationCanceledException && !ct.IsCancellationRequested)
            {
                Log.HandshakeFailed(_log, remote, $"not completed within {_options.HandshakeTimeout.TotalSeconds:0.#} s");
            }
            else
            {
                Log.HandshakeFailed(_log, remote, ex.Message);
            }

            await ssl.DisposeAsync().ConfigureAwait(false);
            client.Dispose();
            return;
        }

        // Until it is known to come from a paired peer, a connection may send only small frames, and
        // every frame must keep pace once its header is in.
        var ctl = new ControlChannel(ssl, client.Client)
        {
            MaxFrame = Frame.MaxHandshakePayload,
            FrameGrace = _options.FrameGrace,
            FrameMinBytesPerSecond = _options.FrameMinBytesPerSecond,
        };
        await using var _ = ctl.ConfigureAwait(false);

        // What the connection is waiting for under a deadline, and how long: named in the log if it
        // runs out. Null while a session runs (its control channel may be silent for a whole data phase).
        string? awaiting = null;
        TimeSpan deadline = default;
        try
        {
            var peer = _store.FindPeer(seen);
            if (peer is not null && !admitted.TryAuthenticate(peer.Id.Canonical, out string? refusal))
            {
                Log.ConnectionsRefused(_log, 1, remote, refusal!);
                return;
            }

            Messages.Hello hello;

            // Two sources of cancellation: the server stopping and the deadline. A paired peer gets one
            // for its HELLO; a node that is joining gets one for its HELLO and JOIN together.
            using (var early = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                (awaiting, deadline) = peer is null ? ("HELLO and JOIN", _options.JoinTimeout) : ("HELLO", _options.HelloTimeout);
                early.CancelAfter(deadline);
                hello = Messages.Hello.Decode((await ctl.ExpectAsync(FrameType.Hello, early.Token).ConfigureAwait(false)).Payload);
                if (hello.Version != Messages.ProtocolVersion)
                {
                    throw new HaulException(ErrorCode.ProtocolError, $"peer speaks protocol {hello.Version}, this node {Messages.ProtocolVersion}", "run the same haul version on both nodes");
                }

                await ctl.SendAsync(FrameType.Hello, new Messages.Hello(Messages.ProtocolVersion, _name, PeerConnection.Version).Encode(), early.Token).ConfigureAwait(false);
                if (peer is null)
                {
                    await HandleJoinAsync(ctl, seen, hello.NodeName, early.Token).ConfigureAwait(false);
                    return;
                }

                awaiting = null;
            }

            ctl.MaxFrame = Frame.MaxPayload;
            FolderSession? folders = null;
            using var disposeFolders = new DisposeLater(() => folders?.Dispose());
            while (true)
            {
                Frame f;
                try
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    (awaiting, deadline) = ("request", _options.IdleTimeout);
                    idle.CancelAfter(deadline);
                    f = await ctl.ReceiveAsync(idle.Token).ConfigureAwait(false);
                    awaiting = null;
                }
                catch (HaulException ex) when (ex.Code == ErrorCode.PeerWentAway)
                {
                    return;
                }

                if (FolderSession.Handles(f.Type))
                {
                    folders ??= new FolderSession(ctl, _store, _home, _chunks, _me, peer, ssl.RemoteCertificate is { } rc ? new System.Security.Cryptography.X509Certificates.X509Certificate2(rc) : null, remote.Address, _log, _slots, _options.StallTimeout);
                    await folders.HandleAsync(f, ct).ConfigureAwait(false);
                    continue;
                }

                switch (f.Type)
                {
                    case FrameType.Offer:
                        // After a write-mode FOLDER_OPEN the files land in that folder, else in the peer's inbox.
                        string? target = folders?.WriteTarget;
                        string root;
                        IDisposable slot;
                        try
                        {
                            root = target ?? InboxOf(peer);
                            slot = TakeSlot(peer);
                        }
                        catch (HaulException ex)
                        {
                            await ctl.SendErrorAsync(ex, ct).ConfigureAwait(false);
                            return;
                        }

                        using (slot)
                        {
                            var node = new ReceiveNode(_store, _me, _log) { Udp = _udp, UdpAdvertiseHost = _options.UdpAdvertiseHost ?? string.Empty, ChunkCache = _chunks };
                            var receive = new ReceiveOptions(root) { ReuseUnnamed = target is null, ReuseFrom = folders?.TakeReuseHints() ?? [], EarlyAccept = true };
                            var session = new ReceiveSession(ctl, peer, node, receive)
                            {
                                StallTimeout = _options.StallTimeout,
                            };
                            await session.RunAsync(f, ct).ConfigureAwait(false);
                        }

                        break;
                    case FrameType.Bye:
                        folders?.EndedCleanly();
                        return;
                    case FrameType.Join:
                        // Already trusted: answer so a repeated 'haul join' succeeds.
                        await ctl.SendAsync(FrameType.JoinOk, new WireWriter().String(_name), ct).ConfigureAwait(false);
                        break;
                    default:
                        throw new HaulException(ErrorCode.ProtocolError, $"unexpected {f.Type}", null);
                }
            }
        }
        catch (HaulException ex)
        {
            Log.ConnectionEnded(_log, remote, seen.Short, ex.Message);
        }
        catch (OperationCanceledException) when (awaiting is not null && !ct.IsCancellationRequested)
        {
            Log.ConnectionTimedOut(_log, remote, seen.Short, $"no {awaiting} within {deadline.TotalSeconds:0.#} s");
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Log.ConnectionFailed(_log, ex, remote);
        }
    }

    private async Task HandleJoinAsync(ControlChannel ctl, NodeId joiner, string helloName, CancellationToken ct)
    {
        var f = await ctl.ExpectAsync(FrameType.Join, ct).ConfigureAwait(false);
        var join = Messages.Join.Decode(f.Payload);
        if (!_store.ConsumeInvite(InviteToken.HashSecret(join.Secret)))
        {
            Log.JoinRefused(_log, joiner);
            await ctl.SendErrorAsync(new HaulException(ErrorCode.BadToken, "the invite token is unknown, already used or expired", "ask for a new one with 'haul invite'"), ct).ConfigureAwait(false);
            return;
        }

        // The joiner's name becomes its inbox folder. One that breaks the rule does not fail the pairing
        // (the invite was given to this node ID, the name is only a label): it is filed under a safe
        // name, and the log says so.
        string wanted = string.IsNullOrEmpty(join.NodeName) ? helloName : join.NodeName;
        if (!NodeName.IsValid(wanted))
        {
            string fallback = NodeName.Fallback(joiner);
            Log.PeerNameReplaced(_log, NodeName.Printable(wanted), joiner, fallback);
            wanted = fallback;
        }

        string name = _store.UniquePeerName(wanted, joiner);
        _store.AddPeer(joiner, name, null);
        Log.Paired(_log, name, joiner);
        await ctl.SendAsync(FrameType.JoinOk, new WireWriter().String(_name), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The folder a peer's sends land in: INBOX/&lt;its name&gt;, and never anywhere else. The name was
    /// checked when it was stored, but a database from before that check (or edited by hand) may hold
    /// anything, so it is checked again here, and the folder must resolve to a direct child of the inbox
    /// that is not a symlink. Otherwise the OFFER is refused and the peer is told why.
    /// </summary>
    private string InboxOf(PeerRecord peer)
    {
        string? why = null;
        string dir = string.Empty;
        if (!NodeName.IsValid(peer.Name))
        {
            why = "is not a safe folder name";
        }
        else
        {
            dir = Path.GetFullPath(Path.Combine(_inbox, peer.Name));
            if (!string.Equals(Path.GetDirectoryName(dir), _inbox.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            {
                why = "does not stay inside the inbox";
            }
            else if (new FileInfo(dir).LinkTarget is not null || File.Exists(dir))
            {
                why = "names a symlink or file in the inbox, not a folder";
            }
        }

        if (why is null)
        {
            return dir;
        }

        Log.InboxRefused(_log, NodeName.Printable(peer.Name), peer.Id, why);
        throw new HaulException(ErrorCode.UnsafePath, $"the receiving node cannot place sends from this node: the name it stores for this node {why}", $"ask the receiving node's owner to rename this node there with 'haul peer add {peer.Id} --name NEWNAME'");
    }

    private IDisposable TakeSlot(PeerRecord peer)
    {
        try
        {
            return _slots.Take(peer.Id, send: false);
        }
        catch (HaulException ex)
        {
            Log.TransfersCapped(_log, peer.Name, ex.Message);
            throw;
        }
    }

    private sealed class DisposeLater(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
