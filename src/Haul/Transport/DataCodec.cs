using System.Buffers.Binary;

namespace Haul.Transport;

/// <summary>Where a DATA packet's payload belongs and when it left: the fields after the common header.</summary>
/// <param name="Chunk">The chunk's index in the manifest.</param>
/// <param name="Offset">The payload's byte offset in the chunk (a multiple of the piece size).</param>
/// <param name="SenderMicros">The sender's 32-bit µs clock when it sealed the packet: echoed in ACKs for RTT.</param>
internal readonly record struct DataHeader(uint Chunk, uint Offset, uint SenderMicros);

/// <summary>
/// The DATA packet's layout, in one place for both ends (docs/protocol.md, "Data channel"):
/// <code>
/// 0  common header (<see cref="PacketHeaderCodec"/>, 16 bytes)
/// 16 u32 chunk index   20 u32 offset in chunk   24 u32 sender time (µs)
/// 28 ciphertext of the piece, then the 16-byte GCM tag
/// </code>
/// Bytes 0..28 are the AEAD's associated data: readable before the packet is opened (so the payload is
/// decrypted straight into its place in the chunk buffer) and authenticated. A reader checks the length
/// it is given; the values (chunk in range, offset on a piece boundary, payload length) are checked by
/// the receiver against its plan.
/// </summary>
internal static class DataCodec
{
    /// <summary>Common header and DATA fields: the associated data.</summary>
    public const int HeaderSize = PacketHeaderCodec.Size + 12;

    /// <summary>Header and GCM tag: a DATA packet is this plus its piece.</summary>
    public const int Overhead = HeaderSize + 16;

    public static void Write(Span<byte> a, in DataHeader d)
    {
        BinaryPrimitives.WriteUInt32BigEndian(a[16..], d.Chunk);
        BinaryPrimitives.WriteUInt32BigEndian(a[20..], d.Offset);
        BinaryPrimitives.WriteUInt32BigEndian(a[24..], d.SenderMicros);
    }

    /// <summary>Reads the DATA fields of <paramref name="packet"/>; false when it is too short to be a DATA packet (header and tag).</summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out DataHeader d)
    {
        if (packet.Length < Overhead)
        {
            d = default;
            return false;
        }

        d = new DataHeader(
            BinaryPrimitives.ReadUInt32BigEndian(packet[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[20..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[24..]));
        return true;
    }

    /// <summary>The payload's length in a DATA packet of <paramref name="packetLength"/> bytes.</summary>
    public static int PayloadLength(int packetLength) => packetLength - Overhead;
}
