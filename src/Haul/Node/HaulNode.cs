using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.State;
using Haul.Transfer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Haul.Node;

/// <summary>
/// One node's home opened for use: identity, database, and the operations the CLI offers. The CLI
/// and the tests both drive nodes through this type.
/// </summary>
internal sealed partial class HaulNode : IDisposable
{
    private HaulNode(string home, NodeIdentity identity, INodeCatalog store, ILoggerFactory loggers)
    {
        Home = home;
        Identity = identity;
        Store = store;
        Loggers = loggers;
    }

    private readonly Lock _chunkCacheLock = new();
    private State.ChunkCache? _chunkCache;

    public string Home { get; }

    public NodeIdentity Identity { get; }

    public INodeCatalog Store { get; }

    public ILoggerFactory Loggers { get; }

    public string Name => Store.GetMeta("name") ?? "haul";

    /// <summary>The node's default rate policy ('haul policy'); a transfer's own flags override it.</summary>
    public Transfer.Congestion.RatePolicy DefaultRatePolicy
    {
        get
        {
            var p = new Transfer.Congestion.RatePolicy();
            if (Enum.TryParse<Transfer.Congestion.RateMode>(Store.GetMeta("rate.mode"), out var mode))
            {
                p = p with { Mode = mode };
            }

            if (double.TryParse(Store.GetMeta("rate.min"), System.Globalization.CultureInfo.InvariantCulture, out double min))
            {
                p = p with { MinBytesPerSec = min };
            }

            if (double.TryParse(Store.GetMeta("rate.max"), System.Globalization.CultureInfo.InvariantCulture, out double max))
            {
                p = p with { MaxBytesPerSec = max, InitialBytesPerSec = Math.Min(p.InitialBytesPerSec, max) };
            }

            return p;
        }

        set
        {
            Store.SetMeta("rate.mode", value.Mode.ToString());
            Store.SetMeta("rate.min", value.MinBytesPerSec.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            Store.SetMeta("rate.max", value.MaxBytesPerSec.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public static HaulNode Init(string home, string name, ILoggerFactory? loggers = null)
    {
        NodeName.Check(name);
        if (NodeIdentity.Exists(home))
        {
            throw new HaulException(ErrorCode.AlreadyInitialized, $"{home} already holds a node identity", "use another --home, or keep this one ('haul id' shows it)");
        }

        var id = NodeIdentity.Create(home, name);
        ApiToken.Ensure(home);
        var store = new NodeStore(HaulHome.DatabasePath(home));
        store.SetMeta("name", name);
        return new HaulNode(home, id, store, loggers ?? NullLoggerFactory.Instance);
    }

    public static HaulNode Open(string home, ILoggerFactory? loggers = null)
    {
        var id = NodeIdentity.Load(home);
        return new HaulNode(home, id, new NodeStore(HaulHome.DatabasePath(home)), loggers ?? NullLoggerFactory.Instance);
    }

    public NodeServer CreateServer(ServeOptions options) => new(Home, Identity, Store, ChunkCache, options, Loggers);

    /// <summary>Chunk lists of files this node has read or written (HAUL_HOME/index.db), opened on first use.</summary>
    public State.ChunkCache ChunkCache
    {
        get
        {
            // Once per node (the server, pulls and sends share it): two would be two write queues on one database.
            lock (_chunkCacheLock)
            {
                return _chunkCache ??= State.ChunkCache.ForHome(Home);
            }
        }
    }

    /// <summary>Creates a one-time token valid for <paramref name="ttl"/>.</summary>
    public InviteToken Invite(string? address, TimeSpan ttl)
    {
        address ??= DefaultAdvertiseAddress();
        Transport.HostPort.Split(address);
        var secret = RandomNumberGenerator.GetBytes(32);
        var expires = DateTimeOffset.UtcNow.Add(ttl);
        Store.AddInvite(InviteToken.HashSecret(secret), expires);
        return new InviteToken(address, Identity.Id, secret, expires);
    }

    /// <summary>Pairs with the node that issued <paramref name="tokenText"/>; returns the name it was saved under.</summary>
    public async Task<PeerRecord> JoinAsync(string tokenText, string? localName = null, CancellationToken cancellationToken = default)
    {
        var token = InviteToken.Decode(tokenText);
        if (token.Expires < DateTimeOffset.UtcNow)
        {
            throw new HaulException(ErrorCode.BadToken, $"the invite token expired at {token.Expires:u}", "ask for a new one with 'haul invite'");
        }

        if (token.NodeId == Identity.Id)
        {
            throw new HaulException(ErrorCode.BadToken, "this token was issued by this node", "run 'haul join' on the other node");
        }

        if (localName is not null)
        {
            // Checked before dialling: a refused name must not use up the invite.
            NodeName.Check(localName, "peer name");
        }

        await using var conn = await PeerConnection.ConnectAsync(Identity, Name, token.NodeId, token.Address, join: true, TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
        await conn.Channel.SendAsync(FrameType.Join, new Messages.Join(token.Secret, Name).Encode(), cancellationToken).ConfigureAwait(false);
        var ok = await conn.Channel.ExpectAsync(FrameType.JoinOk, cancellationToken).ConfigureAwait(false);
        var r = new SpanReader(ok.Payload);
        string theirName = r.String();
        if (localName is null && !NodeName.IsValid(theirName))
        {
            // The inviter's name becomes a folder name here; a name that breaks the rule does not fail
            // the pairing (the invite is already used), it is replaced and logged.
            localName = NodeName.Fallback(token.NodeId);
            Log.PeerNameReplaced(Loggers.CreateLogger("haul.node"), NodeName.Printable(theirName), token.NodeId, localName);
        }

        string name = Store.UniquePeerName(localName ?? theirName, token.NodeId);

        Store.AddPeer(token.NodeId, name, token.Address);
        return Store.FindPeer(token.NodeId)!;
    }

    public PeerRecord ResolvePeer(string nameOrId)
    {
        return Store.FindPeer(nameOrId) ?? throw new HaulException(ErrorCode.UnknownPeer, $"unknown peer '{Security.Printable.Of(nameOrId, 80)}'", "list peers with 'haul peer list'; add one with 'haul peer add NODEID HOST:PORT --name NAME' or 'haul join TOKEN'");
    }

    /// <summary>The name of the node at <paramref name="home"/> (what bisync writes into conflict copies); the machine's name before 'haul init'.</summary>
    public static string NameAt(string home)
    {
        if (!Security.NodeIdentity.Exists(home))
        {
            return Environment.MachineName;
        }

        using var node = Open(home);
        return node.Name;
    }

    /// <summary>A send as every surface asks for it: the request's path to its peer, with its transport and pacing (the node's default policy when it names none).</summary>
    public Task<SendResult> SendAsync(Operations.SendRequest request, Action<TransferProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SendAsync(request.Path, request.Peer, new SendOptions { ForceTcp = request.Tcp, Rate = request.Rate ?? DefaultRatePolicy, CopyLinks = request.CopyLinks }, progress, cancellationToken);

    /// <summary>
    /// Wraps the control stream of each connection <see cref="SendAsync"/> dials (above TLS, where frames
    /// are plain). A test seam: tests put a slow path here (frames held back) instead of delays in the engine.
    /// </summary>
    internal Func<Stream, Stream>? ControlStreamFilter { get; set; }

    /// <summary>Scans <paramref name="path"/>, connects to the peer and sends. Progress goes to <paramref name="progress"/>.</summary>
    public async Task<SendResult> SendAsync(string path, string peerNameOrId, SendOptions? options = null, Action<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var peer = ResolvePeer(peerNameOrId);
        if (peer.Address is null)
        {
            throw new HaulException(ErrorCode.PeerUnreachable, $"peer '{peer.Name}' has no known address (it only dials in)", $"set one with 'haul peer add {peer.Id} HOST:PORT --name {peer.Name}'");
        }

        // Dial while the tree is scanned: the TCP and TLS handshakes (two round trips, over a second on
        // a satellite path) overlap the hashing. A failed dial stops a long scan a second later (a
        // problem with the source found within that second is still the one reported, as before); a
        // failed scan drops the connection.
        using var scanCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var dial = PeerConnection.ConnectAsync(Identity, Name, peer.Id, peer.Address, join: false, TimeSpan.FromSeconds(15), ControlStreamFilter, cancellationToken);
        _ = dial.ContinueWith(
            _ =>
            {
                try
                {
                    scanCts.CancelAfter(TimeSpan.FromSeconds(1));
                }
                catch (ObjectDisposedException)
                {
                    // The scan already failed and SendAsync returned.
                }
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var scanStarted = System.Diagnostics.Stopwatch.StartNew();
        progress?.Invoke(new TransferProgress(TransferPhase.Scan, 0, 0, 0, 0, 0, string.Empty));
        ScannedTree tree;
        try
        {
            tree = await Task.Run(
                () => TreeScanner.Scan(path, progress: progress is null ? null : (b, f) => progress(new TransferProgress(TransferPhase.Scan, b, 0, f, 0, 0, string.Empty)), cancellationToken: scanCts.Token, cache: ChunkCache, followLinks: options?.CopyLinks == true, onSkippedLink: (p, why) => Log.LinkSkipped(Loggers.CreateLogger("haul.send"), p, why)),
                scanCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (dial.IsFaulted && !cancellationToken.IsCancellationRequested)
        {
            await dial.ConfigureAwait(false); // raises the dial's error
            throw;
        }
        catch
        {
            _ = dial.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        _ = t.Result.DisposeAsync();
                    }
                    else
                    {
                        _ = t.Exception; // observed: the scan's error is the one reported
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            throw;
        }

        if (Environment.GetEnvironmentVariable("HAUL_DEBUG") == "1")
        {
            Console.Error.WriteLine($"[scan] {tree.Manifest.FileCount} files, {tree.Manifest.Chunks.Length} chunks; heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:0} MB, ws {Environment.WorkingSet / 1e6:0} MB, threads {System.Diagnostics.Process.GetCurrentProcess().Threads.Count}");
        }

        var conn = await dial.ConfigureAwait(false);
        if (scanStarted.Elapsed > TimeSpan.FromMinutes(2))
        {
            // A long scan left the connection idle; a NAT or firewall on the way may have forgotten it.
            await conn.DisposeAsync().ConfigureAwait(false);
            conn = await PeerConnection.ConnectAsync(Identity, Name, peer.Id, peer.Address, join: false, TimeSpan.FromSeconds(15), ControlStreamFilter, cancellationToken).ConfigureAwait(false);
        }

        await using (conn.ConfigureAwait(false))
        {
            var session = new SendSession(Identity, Store, peer, options ?? new SendOptions(), progress, Loggers.CreateLogger("haul.send"));
            return await session.RunAsync(conn, tree, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _chunkCache?.Dispose();
        Store.Dispose();
        Identity.Dispose();
    }

    private string DefaultAdvertiseAddress()
    {
        string listen = Store.GetMeta("listen") ?? "0.0.0.0:7400";
        var ep = IPEndPoint.Parse(listen);
        if (!ep.Address.Equals(IPAddress.Any) && !ep.Address.Equals(IPAddress.IPv6Any))
        {
            return ep.ToString();
        }

        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (ni.OperationalStatus != OperationalStatus.Up || ni.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var ua in ni.GetIPProperties().UnicastAddresses)
            {
                if (ua.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    return new IPEndPoint(ua.Address, ep.Port).ToString();
                }
            }
        }

        return new IPEndPoint(IPAddress.Loopback, ep.Port).ToString();
    }
}
