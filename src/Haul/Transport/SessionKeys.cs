using System.Security.Cryptography;
using Haul.Content;

namespace Haul.Transport;

/// <summary>
/// Per-session, per-direction AES-256-GCM keys and nonce salts, derived with HKDF-SHA256 from both
/// sides' 32-byte secrets (exchanged inside TLS) and salted with the manifest hash.
/// </summary>
internal sealed record SessionKeys(byte[] SenderToReceiverKey, byte[] SenderToReceiverSalt, byte[] ReceiverToSenderKey, byte[] ReceiverToSenderSalt)
{
    public static SessionKeys Derive(ReadOnlySpan<byte> senderSecret, ReadOnlySpan<byte> receiverSecret, Hash256 manifestHash)
    {
        Span<byte> ikm = stackalloc byte[64];
        senderSecret.CopyTo(ikm);
        receiverSecret.CopyTo(ikm[32..]);
        var salt = manifestHash.ToArray();
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm.ToArray(), salt);
        return new SessionKeys(
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 32, "haul/1 data s2r key"u8.ToArray()),
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 4, "haul/1 data s2r iv"u8.ToArray()),
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 32, "haul/1 data r2s key"u8.ToArray()),
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 4, "haul/1 data r2s iv"u8.ToArray()));
    }
}
