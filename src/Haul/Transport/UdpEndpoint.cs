using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Haul.Transport;

/// <summary>
/// A node's UDP data socket. One dedicated thread receives (with GRO, so one call can return many
/// coalesced packets), splits datagrams by each packet's length field and hands them to the session
/// named in the header. Sessions also get a tick every few milliseconds for timers.
/// </summary>
internal sealed class UdpEndpoint : IDisposable
{
    private const int TickMs = 2;
    private readonly Socket _socket;
    private readonly ConcurrentDictionary<uint, IUdpSession> _sessions = new();
    private readonly Thread _thread;
    private readonly ILogger _log;
    private volatile bool _stopping;

    // Snapshot for the timer loop, rebuilt on (rare) register/unregister, so ticks allocate nothing.
    private volatile IUdpSession[] _tickList = [];

    public UdpEndpoint(IPEndPoint bind, ILogger log)
    {
        _log = log;
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (bind.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _socket.DualMode = true;
        }

        _socket.Bind(bind);
        UdpOffload.SetBuffers(_socket, 32 * 1024 * 1024);
        GroEnabled = UdpOffload.TryEnableGro(_socket);
        _socket.ReceiveTimeout = TickMs;
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _thread = new Thread(Run) { IsBackground = true, Name = "haul-udp-rx", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public IPEndPoint LocalEndPoint { get; }

    public bool GroEnabled { get; }

    /// <summary>Registers <paramref name="session"/> unless the id is taken (ids a peer proposes must not displace another session).</summary>
    public bool TryRegister(uint sessionId, IUdpSession session)
    {
        if (sessionId == 0 || !_sessions.TryAdd(sessionId, session))
        {
            return false;
        }

        _tickList = [.. _sessions.Values];
        return true;
    }

    public void Unregister(uint sessionId)
    {
        if (_sessions.TryRemove(sessionId, out _))
        {
            _tickList = [.. _sessions.Values];
        }
    }

    public void SendTo(ReadOnlySpan<byte> packet, SocketAddress to)
    {
        try
        {
            _socket.SendTo(packet, SocketFlags.None, to);
        }
        catch (SocketException)
        {
            // Feedback is periodic and repeated; a lost or refused one is repaired by the next.
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
        _thread.Join(1000);
    }

    private void Run()
    {
        var buf = GC.AllocateArray<byte>(256 * 1024, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        long nextTick = Stopwatch.GetTimestamp();
        long tickTicks = Stopwatch.Frequency * TickMs / 1000;
        while (!_stopping)
        {
            int n = 0;
            try
            {
                n = _socket.ReceiveFrom(buf, SocketFlags.None, from);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.Interrupted)
            {
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                if (_stopping)
                {
                    return;
                }

                Log.UdpReceiveFailed(_log, ex.SocketErrorCode);
            }

            int off = 0;
            while (off < n)
            {
                var rest = buf.AsSpan(off, n - off);
                if (!PacketCodec.TryPeek(rest, out _, out int len, out uint sid))
                {
                    break;
                }

                if (_sessions.TryGetValue(sid, out var s))
                {
                    try
                    {
                        s.OnPacket(rest[..len], from, this);
                    }
                    catch (ObjectDisposedException)
                    {
                        // The session ended (and disposed its keys) between the lookup and the call:
                        // a late packet for it is dropped, never a crash of the node.
                    }
                }

                off += len;
            }

            long now = Stopwatch.GetTimestamp();
            if (now >= nextTick)
            {
                nextTick = now + tickTicks;
                foreach (var s in _tickList)
                {
                    try
                    {
                        s.OnTick(now, this);
                    }
                    catch (ObjectDisposedException)
                    {
                        // As above: a session that has just ended.
                    }
                }
            }
        }
    }
}
