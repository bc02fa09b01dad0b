using System.Security.Cryptography;
using System.Text;

namespace Haul.Security;

/// <summary>
/// A node's identity: SHA-256 of its certificate, written like a Syncthing device ID: base32, four
/// groups of 13 characters each followed by a Luhn mod 32 check character, shown in groups of seven.
/// </summary>
public readonly record struct NodeId
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private readonly string _text;

    private NodeId(string canonical) => _text = canonical;

    /// <summary>The 56-character form without dashes (stored in the database).</summary>
    public string Canonical => _text ?? string.Empty;

    public static NodeId FromCertificate(ReadOnlySpan<byte> certificateDer)
    {
        Span<byte> h = stackalloc byte[32];
        SHA256.HashData(certificateDer, h);
        return FromHash(h);
    }

    internal static NodeId FromHash(ReadOnlySpan<byte> hash)
    {
        string b32 = Base32(hash);
        var sb = new StringBuilder(56);
        for (int g = 0; g < 4; g++)
        {
            string part = b32.Substring(g * 13, 13);
            sb.Append(part).Append(Luhn32(part));
        }

        return new NodeId(sb.ToString());
    }

    public static bool TryParse(string? text, out NodeId id)
    {
        id = default;
        if (text is null)
        {
            return false;
        }

        var sb = new StringBuilder(56);
        foreach (char c in text.Trim())
        {
            if (c is '-' or ' ')
            {
                continue;
            }

            char u = char.ToUpperInvariant(c);
            if (!Alphabet.Contains(u, StringComparison.Ordinal))
            {
                return false;
            }

            sb.Append(u);
        }

        if (sb.Length != 56)
        {
            return false;
        }

        string s = sb.ToString();
        for (int g = 0; g < 4; g++)
        {
            if (Luhn32(s.Substring(g * 14, 13)) != s[(g * 14) + 13])
            {
                return false;
            }
        }

        id = new NodeId(s);
        return true;
    }

    public static NodeId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new HaulException(ErrorCode.Usage, $"'{text}' is not a valid node ID", "copy the ID exactly as 'haul id' prints it");

    /// <summary>The first group, enough to tell nodes apart in logs.</summary>
    public string Short => Canonical.Length >= 7 ? Canonical[..7] : Canonical;

    public override string ToString()
    {
        if (string.IsNullOrEmpty(_text))
        {
            return string.Empty;
        }

        var sb = new StringBuilder(63);
        for (int i = 0; i < _text.Length; i += 7)
        {
            if (i > 0)
            {
                sb.Append('-');
            }

            sb.Append(_text, i, 7);
        }

        return sb.ToString();
    }

    private static string Base32(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (byte b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            sb.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return sb.ToString();
    }

    private static char Luhn32(string s)
    {
        int factor = 1, sum = 0;
        foreach (char c in s)
        {
            int addend = factor * Alphabet.IndexOf(c, StringComparison.Ordinal);
            factor = factor == 2 ? 1 : 2;
            sum += (addend / 32) + (addend % 32);
        }

        return Alphabet[(32 - (sum % 32)) % 32];
    }
}
