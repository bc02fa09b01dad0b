using System.Net;
using System.Net.Sockets;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>The sender's UDP data socket, set up one way wherever a data plane starts.</summary>
internal static class DataSocket
{
    /// <summary>
    /// Connected to <paramref name="target"/> (an IPv4-mapped address unmapped), 16 MiB buffers, the
    /// piece size for its path MTU, and GSO for that size where the kernel has it.
    /// </summary>
    public static (Socket Socket, IPEndPoint Target, int PieceSize, bool Gso) Open(IPEndPoint target)
    {
        if (target.Address.IsIPv4MappedToIPv6)
        {
            target = new IPEndPoint(target.Address.MapToIPv4(), target.Port);
        }

        var udp = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            udp.Connect(target);
            UdpOffload.SetBuffers(udp, 16 * 1024 * 1024);
            int pieceSize = DataFormat.ForMtu(UdpOffload.PathMtu(udp), target.AddressFamily == AddressFamily.InterNetworkV6);
            return (udp, target, pieceSize, UdpOffload.TryEnableGso(udp, DataFormat.PacketSize(pieceSize)));
        }
        catch
        {
            udp.Dispose();
            throw;
        }
    }
}
