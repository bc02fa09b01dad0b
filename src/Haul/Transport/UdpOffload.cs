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

    public static bool TryEnableGso(Socket s, int segmentSize) => TrySet(s, SolUdp, UdpSegment, segmentSize);

    public static bool TryEnableGro(Socket s) => TrySet(s, SolUdp, UdpGro, 1);

    public static void SetBuffers(Socket s, int bytes)
    {
        // The *FORCE variants pass net.core.[rw]mem_max when running as root; otherwise ask normally.
        if (!TrySet(s, SolSocket, SoRcvBufForce, bytes))
        {
            s.ReceiveBufferSize = bytes;
        }

        if (!TrySet(s, SolSocket, SoSndBufForce, bytes))
        {
            s.SendBufferSize = bytes;
        }
    }

    private static bool TrySet(Socket s, int level, int name, int value)
    {
        try
        {
            Span<byte> v = stackalloc byte[4];
            BitConverter.TryWriteBytes(v, value);
            s.SetRawSocketOption(level, name, v);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
