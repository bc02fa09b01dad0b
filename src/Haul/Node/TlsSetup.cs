using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Haul.Security;

namespace Haul.Node;

/// <summary>
/// TLS 1.3 options for the control channel. Certificates are self-signed, so chain errors are
/// expected and ignored; trust comes only from pinning the certificate's node ID. The client picks
/// SNI "join.haul" when pairing with an invite token, which lets the server accept an unknown
/// certificate for that one JOIN exchange and nothing else.
/// </summary>
internal static class TlsSetup
{
    public const string NormalHost = "haul";
    public const string JoinHost = "join.haul";
    public static readonly List<SslApplicationProtocol> Alpn = [new("haul/1")];

    public static SslClientAuthenticationOptions Client(NodeIdentity me, NodeId expectedPeer, bool join) => new()
    {
        TargetHost = join ? JoinHost : NormalHost,
        EnabledSslProtocols = SslProtocols.Tls13,
        ClientCertificates = [me.Certificate],
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ApplicationProtocols = Alpn,
        RemoteCertificateValidationCallback = (_, cert, _, _) =>
            cert is not null && NodeId.FromCertificate(cert.GetRawCertData()) == expectedPeer,
    };

    public static SslServerAuthenticationOptions Server(NodeIdentity me, Func<NodeId, bool> accept) => new()
    {
        ServerCertificateContext = SslStreamCertificateContext.Create(me.Certificate, null, offline: true),
        EnabledSslProtocols = SslProtocols.Tls13,
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ApplicationProtocols = Alpn,
        RemoteCertificateValidationCallback = (_, cert, _, _) =>
            cert is not null && accept(NodeId.FromCertificate(cert.GetRawCertData())),
    };
}
