using System.Net;

namespace Haul.Transport;

/// <summary>A session multiplexed on a shared UDP socket. Both calls arrive on the endpoint's one receive thread.</summary>
internal interface IUdpSession
{
    void OnPacket(ReadOnlySpan<byte> packet, SocketAddress from, UdpEndpoint endpoint);

    void OnTick(long nowTicks, UdpEndpoint endpoint);
}
