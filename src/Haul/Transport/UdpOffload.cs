using System.Net.Sockets;

namespace Haul.Transport;

/// <summary>
/// Linux UDP segmentation offload (UDP_SEGMENT: one send of up to 64 KiB leaves as many packets) and
/// receive coalescing (UDP_GRO), plus large socket buffers. Each is best effort with a fallback.
/// </summary>
internal static class UdpOffload
{
    private const int SolSocket = 1;
    private const int SoSndBufForce = 32;
    private const int SoRcvBufForce = 33;
    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int UdpGro = 104;

    public static bool TryEnableGso(Socket s, int segmentSize) => SocketOption.TrySet(s, SolUdp, UdpSegment, segmentSize);

    public static bool TryEnableGro(Socket s) => SocketOption.TrySet(s, SolUdp, UdpGro, 1);

    public static void SetBuffers(Socket s, int bytes)
    {
        // The *FORCE variants pass net.core.[rw]mem_max when running as root; otherwise ask normally.
        if (!SocketOption.TrySet(s, SolSocket, SoRcvBufForce, bytes))
        {
            s.ReceiveBufferSize = bytes;
        }

        if (!SocketOption.TrySet(s, SolSocket, SoSndBufForce, bytes))
        {
            s.SendBufferSize = bytes;
        }
    }

    /// <summary>
    /// The kernel's path MTU for a connected socket (IP_MTU / IPV6_MTU), with don't-fragment set so a
    /// datagram that no longer fits is refused rather than fragmented. 1500 when unknown.
    /// </summary>
    public static int PathMtu(Socket s)
    {
        bool v6 = s.AddressFamily == AddressFamily.InterNetworkV6;
        SocketOption.TrySet(s, v6 ? 41 : 0, v6 ? 23 : 10, 2); // IP(V6)_MTU_DISCOVER = IP_PMTUDISC_DO
        return SocketOption.TryGet(s, v6 ? 41 : 0, v6 ? 24 : 14) is { } mtu ? Math.Max(576, mtu) : 1500;
    }
}
