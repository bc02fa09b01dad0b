using System.Net.Sockets;

namespace Haul.Transport;

/// <summary>
/// TCP Fast Open (RFC 7413) for the control connection: a client that has the server's cookie from an
/// earlier connection sends the TLS ClientHello in its SYN, and the server answers it with its SYN-ACK,
/// so the TLS handshake ends one round trip after the dial instead of two (0.6 s on a satellite
/// path). Linux only, and only where the kernel allows it: clients by default
/// (<c>net.ipv4.tcp_fastopen</c> bit 1), servers when the administrator sets bit 2
/// (<c>sysctl net.ipv4.tcp_fastopen=3</c>). Anywhere else the options are refused or ignored and the
/// connection is an ordinary one; a SYN that a middlebox drops for its data is retried without it by
/// the kernel, which then stops trying Fast Open towards that path for a while.
/// </summary>
internal static class TcpFastOpen
{
    private const int IpProtoTcp = 6;
    private const int TcpFastOpenOption = 23;
    private const int TcpFastOpenConnect = 30;

    /// <summary>Before <c>connect</c>: the first write (the ClientHello) may ride in the SYN.</summary>
    public static bool EnableClient(Socket s) => OperatingSystem.IsLinux() && SocketOption.TrySet(s, IpProtoTcp, TcpFastOpenConnect, 1);

    /// <summary>Before <c>listen</c>: accept data in SYNs, with up to <paramref name="pending"/> such connections not yet accepted.</summary>
    public static bool EnableServer(Socket s, int pending = 256) => OperatingSystem.IsLinux() && SocketOption.TrySet(s, IpProtoTcp, TcpFastOpenOption, pending);

    /// <summary>Whether the client option is set on <paramref name="s"/> (tests).</summary>
    public static bool IsClientEnabled(Socket s) => SocketOption.TryGet(s, IpProtoTcp, TcpFastOpenConnect) == 1;

    /// <summary>The server's queue of not-yet-accepted Fast Open connections on <paramref name="s"/> (tests).</summary>
    public static int ServerQueue(Socket s) => SocketOption.TryGet(s, IpProtoTcp, TcpFastOpenOption) ?? 0;
}
