using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Haul.Transport;

/// <summary>
/// Seals and opens data-channel packets. The cleartext layouts are <see cref="PacketHeaderCodec"/> (every
/// packet) and <see cref="DataCodec"/> (DATA's chunk, offset and sender time); ciphertext and the 16-byte
/// GCM tag follow (docs/protocol.md).
/// Everything before the ciphertext is the AEAD's associated data: readable, so a DATA payload can
/// be decrypted straight into its place in the chunk buffer, and authenticated, so it cannot be
/// altered. The nonce is the 4-byte direction salt followed by the packet number, which increments
/// per packet and never repeats under one key. The length field lets a receiver split datagrams the
/// kernel coalesced (UDP GRO) without ancillary data.
/// Not thread-safe: one codec per direction, used by one thread at a time.
/// </summary>
internal sealed class PacketCodec : IDisposable
{
    public const int HeaderSize = PacketHeaderCodec.Size;
    public const int DataHeaderSize = DataCodec.HeaderSize;
    public const int TagSize = 16;
    public const int Overhead = HeaderSize + TagSize;
    public const int DataOverhead = DataHeaderSize + TagSize;

    // The AEAD: AES-GCM on AES-NI/PCLMULQDQ where the CPU has them (AesGcmNi: the same output, 1.0 µs
    // for a 1,400-byte packet against the base library's 2.6), else the base library's (OpenSSL),
    // which also takes the large pieces of a loopback or jumbo path: its stitched code is faster per
    // byte once its fixed cost per call (~2 µs) is spread (2.05 GB/s against 1.83 at 16,000 bytes).
    // HAUL_AESGCM=platform uses the base library for everything, for comparison.
    private const int NiMaxBytes = 8192;
    private static readonly bool UseNi = AesGcmNi.IsSupported && Environment.GetEnvironmentVariable("HAUL_AESGCM") != "platform";
    private readonly AesGcmNi? _ni;
    private readonly AesGcm _aes;
    private readonly byte[] _nonce = new byte[12];
    private readonly ReplayWindow _window = new();
    private ulong _next;

    /// <summary>Packets sealed so far (the next packet number): read by the sender's feedback thread.</summary>
    public ulong Sealed => Volatile.Read(ref _next);

    public PacketCodec(byte[] key, byte[] salt)
        : this(key, salt, UseNi)
    {
    }

    /// <param name="hardware">AES-GCM on AES-NI (true) or the base library's (false); tests pair the two.</param>
    internal PacketCodec(byte[] key, byte[] salt, bool hardware)
    {
        _aes = new AesGcm(key, TagSize);
        if (hardware)
        {
            _ni = new AesGcmNi(key);
        }
        salt.CopyTo(_nonce, 0);
    }

    public long Forged { get; private set; }

    public long Replayed { get; private set; }

    public static int AadLength(PacketType type) => type == PacketType.Data ? DataHeaderSize : HeaderSize;

    /// <summary>Seals a control packet (probe, ack) with <paramref name="plaintext"/>; returns the packet length.</summary>
    public int Seal(PacketType type, uint sessionId, ReadOnlySpan<byte> plaintext, Span<byte> dest)
    {
        int total = HeaderSize + plaintext.Length + TagSize;
        if (total > ushort.MaxValue || dest.Length < total)
        {
            throw new ArgumentException("packet too large", nameof(plaintext));
        }

        WriteHeader(type, sessionId, total, dest);
        Encrypt(plaintext, dest.Slice(HeaderSize, plaintext.Length), dest.Slice(HeaderSize + plaintext.Length, TagSize), dest[..HeaderSize]);
        return total;
    }

    /// <summary>Seals a DATA packet, encrypting <paramref name="payload"/> straight from the chunk buffer.</summary>
    public int SealData(uint sessionId, uint chunk, uint offset, uint micros, ReadOnlySpan<byte> payload, Span<byte> dest)
    {
        int total = DataHeaderSize + payload.Length + TagSize;
        WriteHeader(PacketType.Data, sessionId, total, dest);
        DataCodec.Write(dest, new DataHeader(chunk, offset, micros));
        Encrypt(payload, dest.Slice(DataHeaderSize, payload.Length), dest.Slice(DataHeaderSize + payload.Length, TagSize), dest[..DataHeaderSize]);
        return total;
    }

    /// <summary>
    /// Authenticates and decrypts the ciphertext of one packet into <paramref name="plaintext"/> (which
    /// must be exactly the ciphertext's length). Returns false for a forged, corrupted or replayed packet,
    /// which is counted and never delivered; on failure the content of <paramref name="plaintext"/> is unspecified.
    /// </summary>
    public bool Open(ReadOnlySpan<byte> packet, Span<byte> plaintext)
    {
        if (!PacketHeaderCodec.TryRead(packet, out var h))
        {
            Forged++;
            return false;
        }

        int aad = AadLength(h.Type);
        if (packet.Length < aad + TagSize || h.Length != packet.Length || plaintext.Length != packet.Length - aad - TagSize)
        {
            Forged++;
            return false;
        }

        ulong pn = h.Number;
        int n = packet.Length - aad - TagSize;
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), pn);
        if (_ni is not null && n <= NiMaxBytes)
        {
            if (!_ni.TryDecrypt(_nonce, packet.Slice(aad, n), packet.Slice(aad + n, TagSize), plaintext, packet[..aad]))
            {
                Forged++;
                return false;
            }
        }
        else
        {
            try
            {
                _aes.Decrypt(_nonce, packet.Slice(aad, n), packet.Slice(aad + n, TagSize), plaintext, packet[..aad]);
            }
            catch (AuthenticationTagMismatchException)
            {
                Forged++;
                return false;
            }
        }

        if (!_window.TryAccept(pn))
        {
            Replayed++;
            return false;
        }

        return true;
    }

    /// <summary>Ciphertext length of a packet whose header has been peeked (negative when it is too short to hold one).</summary>
    public static int PlainLength(ReadOnlySpan<byte> packet) => packet.IsEmpty ? -1 : packet.Length - AadLength((PacketType)packet[0]) - TagSize;

    /// <summary>Reads the cleartext header fields of a packet at the start of a datagram.</summary>
    public static bool TryPeek(ReadOnlySpan<byte> datagram, out PacketType type, out int length, out uint sessionId)
    {
        type = 0;
        length = 0;
        sessionId = 0;
        if (datagram.Length < Overhead || !PacketHeaderCodec.TryRead(datagram, out var h))
        {
            return false;
        }

        (type, length, sessionId) = (h.Type, h.Length, h.SessionId);
        return length >= AadLength(type) + TagSize && length <= datagram.Length;
    }

    public void Dispose() => _aes.Dispose();

    /// <summary>Whether packets are sealed with <see cref="AesGcmNi"/> (diagnostics, tests).</summary>
    internal static bool UsesNi => UseNi;

    private void Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> aad)
    {
        if (_ni is not null && plaintext.Length <= NiMaxBytes)
        {
            _ni.Encrypt(_nonce, plaintext, ciphertext, tag, aad);
        }
        else
        {
            _aes.Encrypt(_nonce, plaintext, ciphertext, tag, aad);
        }
    }

    private void WriteHeader(PacketType type, uint sessionId, int total, Span<byte> dest)
    {
        ulong pn = _next++;
        PacketHeaderCodec.Write(dest, new PacketHeader(type, (ushort)total, sessionId, pn));
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), pn);
    }
}
