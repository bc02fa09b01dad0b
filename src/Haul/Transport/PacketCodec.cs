using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Haul.Transport;

/// <summary>
/// Seals and opens data-channel packets. Layout (docs/protocol.md):
/// <code>
/// 0  u8  type      1 u8 flags (0)   2 u16 total packet length
/// 4  u32 session id                 8 u64 packet number
/// 16 ciphertext ...                 last 16 bytes: GCM tag
/// </code>
/// The 16-byte header is the AEAD's associated data; the nonce is the 4-byte direction salt followed
/// by the packet number, which increments per packet and never repeats under one key. The length field
/// lets a receiver split datagrams the kernel coalesced (UDP GRO) without ancillary data.
/// Not thread-safe: one sealer per sending thread, one opener per receiving thread.
/// </summary>
internal sealed class PacketCodec : IDisposable
{
    public const int HeaderSize = 16;
    public const int TagSize = 16;
    public const int Overhead = HeaderSize + TagSize;

    private readonly AesGcm _aes;
    private readonly byte[] _salt;
    private readonly byte[] _nonce = new byte[12];
    private readonly ReplayWindow _window = new();
    private ulong _next;

    public PacketCodec(byte[] key, byte[] salt)
    {
        _aes = new AesGcm(key, TagSize);
        _salt = salt;
        salt.CopyTo(_nonce, 0);
    }

    public long Forged { get; private set; }

    public long Replayed { get; private set; }

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="dest"/>; returns the packet length.</summary>
    public int Seal(PacketType type, uint sessionId, ReadOnlySpan<byte> plaintext, Span<byte> dest)
    {
        int total = HeaderSize + plaintext.Length + TagSize;
        if (total > ushort.MaxValue || dest.Length < total)
        {
            throw new ArgumentException("packet too large", nameof(plaintext));
        }

        ulong pn = _next++;
        dest[0] = (byte)type;
        dest[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(dest[2..], (ushort)total);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], sessionId);
        BinaryPrimitives.WriteUInt64BigEndian(dest[8..], pn);
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), pn);
        _aes.Encrypt(_nonce, plaintext, dest.Slice(HeaderSize, plaintext.Length), dest.Slice(HeaderSize + plaintext.Length, TagSize), dest[..HeaderSize]);
        return total;
    }

    /// <summary>
    /// Seals a packet whose plaintext (<paramref name="plainLength"/> bytes) is already at offset
    /// <see cref="HeaderSize"/> of <paramref name="packet"/>, encrypting in place. Returns the packet length.
    /// </summary>
    public int SealInPlace(PacketType type, uint sessionId, int plainLength, Span<byte> packet)
    {
        int total = HeaderSize + plainLength + TagSize;
        ulong pn = _next++;
        packet[0] = (byte)type;
        packet[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)total);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], sessionId);
        BinaryPrimitives.WriteUInt64BigEndian(packet[8..], pn);
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), pn);
        var body = packet.Slice(HeaderSize, plainLength);
        _aes.Encrypt(_nonce, body, body, packet.Slice(HeaderSize + plainLength, TagSize), packet[..HeaderSize]);
        return total;
    }

    /// <summary>
    /// Authenticates and decrypts one packet into <paramref name="plaintext"/>. Returns the plaintext
    /// length, or -1 for a forged, corrupted or replayed packet (counted, never delivered).
    /// </summary>
    public int Open(ReadOnlySpan<byte> packet, Span<byte> plaintext)
    {
        if (packet.Length < Overhead || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != packet.Length)
        {
            Forged++;
            return -1;
        }

        ulong pn = BinaryPrimitives.ReadUInt64BigEndian(packet[8..]);
        int n = packet.Length - Overhead;
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), pn);
        try
        {
            _aes.Decrypt(_nonce, packet.Slice(HeaderSize, n), packet.Slice(HeaderSize + n, TagSize), plaintext[..n], packet[..HeaderSize]);
        }
        catch (AuthenticationTagMismatchException)
        {
            Forged++;
            return -1;
        }

        if (!_window.TryAccept(pn))
        {
            Replayed++;
            return -1;
        }

        return n;
    }

    /// <summary>Reads the cleartext header fields of a packet at the start of a datagram.</summary>
    public static bool TryPeek(ReadOnlySpan<byte> datagram, out PacketType type, out int length, out uint sessionId)
    {
        type = 0;
        length = 0;
        sessionId = 0;
        if (datagram.Length < Overhead)
        {
            return false;
        }

        type = (PacketType)datagram[0];
        length = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        sessionId = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        return length >= Overhead && length <= datagram.Length;
    }

    public void Dispose() => _aes.Dispose();
}
