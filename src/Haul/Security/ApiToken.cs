using System.Security.Cryptography;
using System.Text;

namespace Haul.Security;

/// <summary>
/// The bearer token of the node's REST API: 32 random bytes, base64url, in HAUL_HOME/api.token (0600).
/// Created at 'haul init' (or when a node made before the API first serves), replaced by 'haul token rotate'.
/// </summary>
internal static class ApiToken
{
    public static string PathFor(string home) => System.IO.Path.Combine(home, "api.token");

    /// <summary>The token, created if the node has none yet.</summary>
    public static string Ensure(string home)
    {
        string path = PathFor(home);
        if (File.Exists(path))
        {
            string t = File.ReadAllText(path).Trim();
            if (t.Length >= 32)
            {
                return t;
            }
        }

        return Rotate(home);
    }

    /// <summary>The token, or an error that says how to get one.</summary>
    public static string Read(string home)
    {
        string path = PathFor(home);
        if (!File.Exists(path))
        {
            throw new HaulException(ErrorCode.NotInitialized, $"no API token in {home}", "run 'haul init' (or 'haul token rotate' on a node made before the API)");
        }

        return File.ReadAllText(path).Trim();
    }

    /// <summary>Writes a new token (atomically, mode 0600) and returns it; the old one stops working at once.</summary>
    public static string Rotate(string home)
    {
        Directory.CreateDirectory(home);
        string token = Base64Url(RandomNumberGenerator.GetBytes(32));
        string path = PathFor(home);
        string temp = path + ".tmp";
        using (var fs = new FileStream(temp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            fs.Write(Encoding.ASCII.GetBytes(token + "\n"));
        }

        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
        return token;
    }

    /// <summary>Constant-time comparison, so response timing says nothing about how much of a guess was right.</summary>
    public static bool Matches(string expected, string? presented)
    {
        if (presented is null)
        {
            return false;
        }

        var a = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
