using System.Security.Cryptography;
using Haul.Protocol;

namespace Haul.Security;

/// <summary>
/// What 'haul invite' prints and 'haul join' takes: the inviter's address and node ID and a one-time
/// secret, with a 4-byte checksum so a mangled paste is caught locally. Text form: "haul1-" + base64url.
/// </summary>
internal sealed record InviteToken(string Address, NodeId NodeId, byte[] Secret, DateTimeOffset Expires)
{
    private const string Prefix = "haul1-";
    private const byte Version = 1;

    public string Encode()
    {
        var w = new WireWriter();
        w.U8(Version).String(Address).String(NodeId.Canonical).Bytes(Secret).I64(Expires.ToUnixTimeSeconds());
        var body = w.ToArray();
        var sum = SHA256.HashData(body);
        return Prefix + Base64Url(body.Concat(sum.AsSpan(0, 4).ToArray()).ToArray());
    }

    public static InviteToken Decode(string text)
    {
        static HaulException Bad(string why) => new(ErrorCode.BadToken, $"bad invite token: {why}", "copy the whole token that 'haul invite' printed, or ask for a new one");
        text = text.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw Bad("it does not start with 'haul1-'");
        }

        byte[] raw;
        try
        {
            raw = FromBase64Url(text[Prefix.Length..]);
        }
        catch (FormatException)
        {
            throw Bad("it is not valid base64url");
        }

        if (raw.Length < 8)
        {
            throw Bad("it is too short");
        }

        var body = raw.AsSpan(0, raw.Length - 4);
        if (!SHA256.HashData(body).AsSpan(0, 4).SequenceEqual(raw.AsSpan(raw.Length - 4)))
        {
            throw Bad("its checksum does not match (truncated or mistyped)");
        }

        try
        {
            var r = new SpanReader(body);
            if (r.U8() != Version)
            {
                throw Bad("unsupported token version");
            }

            string addr = r.String();
            string id = r.String();
            byte[] secret = r.Bytes(32).ToArray();
            long exp = r.I64();
            r.End();
            if (!NodeId.TryParse(id, out var nodeId))
            {
                throw Bad("it carries an invalid node ID");
            }

            return new InviteToken(addr, nodeId, secret, DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(exp, 0, 253402300799)));
        }
        catch (HaulException ex) when (ex.Code == ErrorCode.ProtocolError)
        {
            throw Bad(ex.Message);
        }
    }

    public static byte[] HashSecret(ReadOnlySpan<byte> secret) => SHA256.HashData(secret);

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", 0 => string.Empty, _ => throw new FormatException() };
        return Convert.FromBase64String(s);
    }
}
