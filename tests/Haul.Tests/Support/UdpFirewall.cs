using System.Net;
using System.Net.Sockets;

namespace Haul.Tests.Support;

/// <summary>
/// A middlebox in front of a serving node, on one loopback port: TCP to that port is forwarded to the
/// node's control port, UDP to it is swallowed (counted, never answered), as a firewall that lets
/// TCP through and drops UDP does. A sender dialling this address guesses the node's UDP at the same
/// port, so a proposed session's data goes into the firewall.
/// </summary>
internal sealed class UdpFirewall : IDisposable
{
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _cts = new();
    private readonly List<TcpClient> _open = [];
    private long _dropped;

    public UdpFirewall(IPEndPoint target)
    {
        _target = target;
        // Same port number for both protocols: take a free UDP port, then the TCP port of that number
        // (separate port spaces; retried in the rare case TCP's is taken).
        for (int attempt = 0; ; attempt++)
        {
            _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)_udp.LocalEndPoint!).Port;
            try
            {
                _tcp = new TcpListener(IPAddress.Loopback, port);
                _tcp.Start();
                break;
            }
            catch (SocketException) when (attempt < 20)
            {
                _udp.Dispose();
            }
        }

        EndPoint = (IPEndPoint)_udp.LocalEndPoint!;
        _ = Task.Run(SwallowAsync);
        _ = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>UDP datagrams that reached the firewall and went no further.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private async Task SwallowAsync()
    {
        var buf = new byte[70_000];
        while (!_cts.IsCancellationRequested)
        {
            try
            {
                await _udp.ReceiveAsync(buf, SocketFlags.None, _cts.Token);
                Interlocked.Increment(ref _dropped);
            }
            catch (Exception) when (_cts.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // An ICMP error reported on the socket; keep swallowing.
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _tcp.AcceptTcpClientAsync(_cts.Token);
            }
            catch (Exception) when (_cts.IsCancellationRequested)
            {
                return;
            }

            var outbound = new TcpClient();
            lock (_open)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await outbound.ConnectAsync(_target, _cts.Token);
                    var a = inbound.GetStream();
                    var b = outbound.GetStream();
                    await Task.WhenAny(PumpAsync(a, b, outbound), PumpAsync(b, a, inbound));
                }
                catch (Exception)
                {
                    // A side closed or the firewall is going away.
                }
                finally
                {
                    inbound.Dispose();
                    outbound.Dispose();
                }
            });
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, TcpClient toClient)
    {
        var buf = new byte[64 * 1024];
        int n;
        while ((n = await from.ReadAsync(buf, _cts.Token)) > 0)
        {
            await to.WriteAsync(buf.AsMemory(0, n), _cts.Token);
        }

        toClient.Client.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        _cts.Cancel();
        _tcp.Stop();
        _udp.Dispose();
        lock (_open)
        {
            foreach (var c in _open)
            {
                c.Dispose();
            }
        }

        _cts.Dispose();
    }
}
