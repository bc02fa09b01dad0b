using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
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

    /// <summary>
    /// ALPN names the protocol revision, negotiated inside the TLS handshake at no extra round trip.
    /// "haul/1.1": an OFFER may carry a session proposal (data with the OFFER). "haul/1": the first
    /// revision, whose OFFER parser refuses fields it does not know. A client offers both, newest
    /// first; a server picks the newest it shares, so a node only uses what its peer can parse.
    /// </summary>
    public static readonly SslApplicationProtocol Revision11 = new("haul/1.1");

    public static readonly SslApplicationProtocol Revision1 = new("haul/1");

    public static readonly List<SslApplicationProtocol> Alpn = [Revision11, Revision1];

    /// <summary>What a node of the first revision offers (and picks): for tests of mixed versions.</summary>
    public static readonly List<SslApplicationProtocol> AlpnFirstRevision = [Revision1];

    /// <summary>Whether the peer on a connection that negotiated <paramref name="alpn"/> parses a session proposal in an OFFER.</summary>
    public static bool TakesProposals(SslApplicationProtocol alpn) => alpn == Revision11;

    private static int _warmed;

    /// <summary>
    /// Builds one X.509 chain in the background, once per process. The runtime builds a chain for every
    /// certificate a peer presents (Haul ignores the verdict: trust is the pinned node ID), and on
    /// Linux the first build loads the system's CA store: 146 files here, 0.15–0.2 s of CPU, which sat
    /// between the server's certificate arriving and the handshake finishing. Started when a dial
    /// starts (or a server starts listening), the load overlaps the TCP handshake instead. Later
    /// builds use the runtime's cached store.
    /// </summary>
    public static void WarmUp(X509Certificate2 any)
    {
        if (Interlocked.Exchange(ref _warmed, 1) != 0)
        {
            return;
        }

        byte[] raw = any.RawData;
        _ = Task.Run(() =>
        {
            try
            {
                using var cert = X509CertificateLoader.LoadCertificate(raw);
                using var chain = new X509Chain();
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.DisableCertificateDownloads = true;
                chain.Build(cert);
            }
            catch (CryptographicException)
            {
                // Only a warm-up: the handshake builds its own chain and reports its own errors.
            }
        });
    }

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

    public static SslServerAuthenticationOptions Server(NodeIdentity me, Func<NodeId, bool> accept, bool firstRevisionOnly = false) => new()
    {
        ServerCertificateContext = SslStreamCertificateContext.Create(me.Certificate, null, offline: true),
        EnabledSslProtocols = SslProtocols.Tls13,
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ApplicationProtocols = firstRevisionOnly ? AlpnFirstRevision : Alpn,
        RemoteCertificateValidationCallback = (_, cert, _, _) =>
            cert is not null && accept(NodeId.FromCertificate(cert.GetRawCertData())),
    };
}
