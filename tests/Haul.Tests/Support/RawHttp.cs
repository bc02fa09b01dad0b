using System.Net.Sockets;
using System.Text;

namespace Haul.Tests.Support;

/// <summary>
/// One HTTP/1.1 request over a plain socket, the path sent byte for byte: no client library normalises
/// a "..", a "//" or an encoded backslash in it, so a test server receives exactly the hostile key.
/// </summary>
internal static class RawHttp
{
    /// <summary>"/bucket/" + the key with every byte outside [A-Za-z0-9/_-] percent-encoded (the server decodes it back).</summary>
    public static string ObjectPath(string bucket, string key)
    {
        var path = new StringBuilder("/" + bucket + "/");
        foreach (byte b in Encoding.UTF8.GetBytes(key))
        {
            path.Append(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'/' or (byte)'_' or (byte)'-' ? ((char)b).ToString() : $"%{b:X2}");
        }

        return path.ToString();
    }

    /// <summary>Sends the request and throws unless the answer is 200.</summary>
    public static void Send(int port, string method, string path, byte[]? body, string? contentType)
    {
        using var c = new TcpClient("127.0.0.1", port);
        using var s = c.GetStream();
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {body?.Length ?? 0}\r\n");
        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        s.Write(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()));
        if (body is not null)
        {
            s.Write(body);
        }

        using var r = new StreamReader(s, Encoding.UTF8);
        string all = r.ReadToEnd();
        if (!all.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && !all.StartsWith("HTTP/1.0 200", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{method} {path} on port {port}: {all.Split('\n')[0]}");
        }
    }
}
