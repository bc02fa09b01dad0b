using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Haul.Node;
using Haul.Protocol;
using Haul.Security;

namespace Haul.Tests.Support;

/// <summary>
/// A raw control-channel client for attacks: it completes TCP and TLS with a real node identity (or
/// stops after TCP) and then writes whatever bytes a test wants, frames well-formed or not, at whatever
/// pace. Frames the node sends back are read through a <see cref="ControlChannel"/>.
/// </summary>
internal sealed class HostileClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SslStream? _ssl;

    private HostileClient(Socket socket, SslStream? ssl)
    {
        _socket = socket;
        _ssl = ssl;
        Channel = ssl is null ? null! : new ControlChannel(ssl, socket);
    }

    /// <summary>Reads the node's frames (only after a TLS handshake).</summary>
    public ControlChannel Channel { get; }

    /// <summary>TCP only, nothing sent: a half-open handshake. <paramref name="from"/> picks the local loopback address (127.0.0.x).</summary>
    public static async Task<HostileClient> ConnectTcpAsync(IPEndPoint node, IPAddress? from = null)
    {
        var s = await DialAsync(node, from);
        return new HostileClient(s, null);
    }

    /// <summary>TCP and TLS as <paramref name="me"/>, expecting <paramref name="nodeId"/>; SNI "join.haul" when <paramref name="join"/>.</summary>
    public static async Task<HostileClient> ConnectAsync(NodeIdentity me, NodeId nodeId, IPEndPoint node, bool join = false, IPAddress? from = null)
    {
        var s = await DialAsync(node, from);
        var ssl = new SslStream(new NetworkStream(s, ownsSocket: false), leaveInnerStreamOpen: false);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ssl.AuthenticateAsClientAsync(TlsSetup.Client(me, nodeId, join), cts.Token);
        return new HostileClient(s, ssl);
    }

    /// <summary>One frame with a true length.</summary>
    public Task SendFrameAsync(FrameType type, ReadOnlyMemory<byte> payload) => SendFrameAsync(type, payload, (uint)payload.Length);

    /// <summary>One frame header claiming <paramref name="declaredLength"/>, followed by <paramref name="payload"/> (which may be shorter).</summary>
    public async Task SendFrameAsync(FrameType type, ReadOnlyMemory<byte> payload, uint declaredLength)
    {
        var header = new byte[Frame.HeaderSize];
        header[0] = Frame.Version;
        header[1] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), declaredLength);
        await SendRawAsync(header);
        if (payload.Length > 0)
        {
            await SendRawAsync(payload);
        }
    }

    public Task SendFrameAsync(FrameType type, WireWriter w) => SendFrameAsync(type, w.WrittenMemory);

    /// <summary>Bytes as they are: on the TLS stream after a handshake, else on the socket.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_ssl is not null)
        {
            await _ssl.WriteAsync(bytes);
            await _ssl.FlushAsync();
        }
        else
        {
            await _socket.SendAsync(bytes);
        }
    }

    /// <summary>A HELLO as any node would send it, under whatever name.</summary>
    public Task SendHelloAsync(string name) =>
        SendFrameAsync(FrameType.Hello, new Messages.Hello(Messages.ProtocolVersion, name, "hostile").Encode());

    /// <summary>
    /// Whether the node closes the connection within <paramref name="within"/>: a read that ends (or
    /// fails) counts as closed; any frames the node sends first are skipped.
    /// </summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var buf = new byte[4096];
        try
        {
            while (true)
            {
                int n = _ssl is not null
                    ? await _ssl.ReadAsync(buf, cts.Token)
                    : await _socket.ReceiveAsync(buf, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException)
        {
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ssl is not null)
        {
            await Channel.DisposeAsync();
        }

        _socket.Dispose();
    }

    private static async Task<Socket> DialAsync(IPEndPoint node, IPAddress? from)
    {
        var s = new Socket(node.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (from is not null)
            {
                s.Bind(new IPEndPoint(from, 0));
            }

            await s.ConnectAsync(node);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }
}
