using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Haul.Security;

/// <summary>
/// The node's ECDSA P-256 key pair and self-signed certificate, kept in HAUL_HOME as PEM files that
/// only the owner can read. The certificate's SHA-256 is the node ID.
/// </summary>
internal sealed class NodeIdentity : IDisposable
{
    public const string KeyFile = "node.key";
    public const string CertFile = "node.crt";

    private NodeIdentity(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        Key = key;
        Id = NodeId.FromCertificate(certificate.RawData);
    }

    public X509Certificate2 Certificate { get; }

    public ECDsa Key { get; }

    public NodeId Id { get; }

    public static bool Exists(string home) => File.Exists(Path.Combine(home, KeyFile)) && File.Exists(Path.Combine(home, CertFile));

    public static NodeIdentity Create(string home, string name)
    {
        Directory.CreateDirectory(home);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN=haul {name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        using var cert = req.CreateSelfSigned(notBefore, notBefore.AddYears(30));
        WritePrivate(Path.Combine(home, KeyFile), key.ExportPkcs8PrivateKeyPem());
        WritePrivate(Path.Combine(home, CertFile), cert.ExportCertificatePem());
        return Load(home);
    }

    public static NodeIdentity Load(string home)
    {
        string keyPath = Path.Combine(home, KeyFile);
        string certPath = Path.Combine(home, CertFile);
        if (!File.Exists(keyPath) || !File.Exists(certPath))
        {
            throw new HaulException(ErrorCode.NotInitialized, $"no node identity in {home}", "run 'haul init --name NAME' first (or pass --home DIR)");
        }

        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(keyPath));
        using var pub = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
        var withKey = pub.CopyWithPrivateKey(key);
        return new NodeIdentity(withKey, key);
    }

    public byte[] Sign(ReadOnlySpan<byte> data) => Key.SignData(data, HashAlgorithmName.SHA256);

    public static bool Verify(X509Certificate2 signer, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        using var pub = signer.GetECDsaPublicKey();
        return pub is not null && pub.VerifyData(data, signature, HashAlgorithmName.SHA256);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }

    private static void WritePrivate(string path, string content)
    {
        var opts = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using (var fs = new FileStream(path, opts))
        using (var w = new StreamWriter(fs))
        {
            w.Write(content);
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
