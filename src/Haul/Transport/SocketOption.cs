using System.Net.Sockets;

namespace Haul.Transport;

/// <summary>Integer socket options by level and number, best effort: the UDP offloads, TCP Fast Open.</summary>
internal static class SocketOption
{
    /// <summary>Sets an int option; false where the kernel refuses it.</summary>
    public static bool TrySet(Socket s, int level, int name, int value)
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

    /// <summary>Reads an int option; null where the kernel refuses it.</summary>
    public static int? TryGet(Socket s, int level, int name)
    {
        try
        {
            Span<byte> v = stackalloc byte[4];
            return s.GetRawSocketOption(level, name, v) == 4 ? BitConverter.ToInt32(v) : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
