namespace Haul.Transfer;

/// <summary>
/// Plaintext layouts inside sealed data-channel packets (docs/protocol.md).
/// DATA: u32 chunk, u32 offset in chunk, u32 sender time (µs), payload (≤ <see cref="PieceSize"/>).
/// ACK: u32 echoed time, u32 hold time (µs), u64 highest packet number, u64 packets received,
/// u16 entries of { u32 chunk, u32 pieces seen up to, u16 ranges of { u32 first missing, u32 count } }.
/// </summary>
internal static class DataFormat
{
    /// <summary>Payload bytes per packet: 1400 + 12 + 32 = 1444-byte UDP payload, 1472 with IPv4+UDP, 1492 with IPv6.</summary>
    public const int PieceSize = 1400;
    public const int DataHeader = 12;
    public const int MaxPacket = Transport.PacketCodec.Overhead + DataHeader + PieceSize;
    public const int MaxAckPlain = 1400;

    public static int PieceCount(int chunkLength) => (chunkLength + PieceSize - 1) / PieceSize;

    public static int PieceLength(int chunkLength, int piece) => Math.Min(PieceSize, chunkLength - (piece * PieceSize));
}
