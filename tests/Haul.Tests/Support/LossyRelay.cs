using System.Net;
using System.Net.Sockets;

namespace Haul.Tests.Support;

/// <summary>
/// A UDP relay between sender and receiver that drops, duplicates, reorders and corrupts packets
/// from the sender, and passes the receiver's feedback back. It splits GRO-free datagrams only as
/// they arrive: the sender's socket sends one packet per datagram towards it.
/// </summary>
internal sealed class LossyRelay : IDisposable
{
    private readonly Socket _front;
    private readonly Socket _back;
    private readonly IPEndPoint _target;
    private readonly Thread _fwd;
    private readonly Thread _rev;
    private readonly Random _rng = new(1234);
    private volatile bool _stop;
    private EndPoint? _client;

    public LossyRelay(IPEndPoint target, double drop, double duplicate, double reorder, double corrupt, bool blackhole = false)
    {
        _target = target;
        Drop = drop;
        Duplicate = duplicate;
        Reorder = reorder;
        Corrupt = corrupt;
        Blackhole = blackhole;
        _front = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _front.ReceiveBufferSize = 8 << 20;
        _back = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _back.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _back.ReceiveTimeout = 200;
        _front.ReceiveTimeout = 200;
        _fwd = new Thread(Forward) { IsBackground = true };
        _rev = new Thread(Reverse) { IsBackground = true };
        _fwd.Start();
        _rev.Start();
    }

    public double Drop { get; }

    public double Duplicate { get; }

    public double Reorder { get; }

    public double Corrupt { get; }

    public bool Blackhole { get; }

    public IPEndPoint EndPoint => (IPEndPoint)_front.LocalEndPoint!;

    public long Forwarded { get; private set; }

    public long Dropped { get; private set; }

    public long Duplicated { get; private set; }

    public long Reordered { get; private set; }

    public long Corrupted { get; private set; }

    public void Dispose()
    {
        _stop = true;
        _fwd.Join();
        _rev.Join();
        _front.Dispose();
        _back.Dispose();
    }

    private void Forward()
    {
        var buf = new byte[65536];
        byte[]? held = null;
        while (!_stop)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n;
            try
            {
                n = _front.ReceiveFrom(buf, ref from);
            }
            catch (SocketException)
            {
                continue;
            }

            _client = from;
            if (Blackhole || _rng.NextDouble() < Drop)
            {
                Dropped++;
                continue;
            }

            var pkt = buf.AsSpan(0, n).ToArray();
            if (_rng.NextDouble() < Corrupt)
            {
                pkt[_rng.Next(pkt.Length)] ^= 0x40;
                Corrupted++;
            }

            if (held is null && _rng.NextDouble() < Reorder)
            {
                held = pkt;
                Reordered++;
                continue;
            }

            Send(pkt);
            if (_rng.NextDouble() < Duplicate)
            {
                Send(pkt);
                Duplicated++;
            }

            if (held is not null)
            {
                Send(held);
                held = null;
            }
        }
    }

    private void Send(byte[] pkt)
    {
        _back.SendTo(pkt, _target);
        Forwarded++;
    }

    private void Reverse()
    {
        var buf = new byte[65536];
        while (!_stop)
        {
            int n;
            try
            {
                n = _back.Receive(buf);
            }
            catch (SocketException)
            {
                continue;
            }

            if (_client is not null && !Blackhole)
            {
                _front.SendTo(buf.AsSpan(0, n), SocketFlags.None, _client);
            }
        }
    }
}
