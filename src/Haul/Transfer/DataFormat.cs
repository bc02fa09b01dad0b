using Haul.Protocol;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>
/// Sizes on the data channel (docs/protocol.md). A DATA packet carries one piece of a chunk; the
/// piece size is chosen per session by the sender from the path MTU and announced in START.
/// The ACK's layout is <see cref="AckCodec"/>.
/// </summary>
internal static class DataFormat
{
    /// <summary>The floor (a path that reports a smaller MTU still gets this): 1400 + 44 = 1444-byte UDP payload, 1472 with IPv4+UDP headers, 1492 with IPv6. A 1500-byte path gets 1428 over IPv4 (<see cref="ForMtu"/>).</summary>
    public const int SmallPiece = 1400;

    /// <summary>Largest piece: four packets still fit one 64 KiB GSO send (the wire's bound, <see cref="PieceSize.Max"/>).</summary>
    public const int LargePiece = PieceSize.Max;

    public const int MinPiece = PieceSize.Min;
    public const int MaxAckPlain = 1400;

    public static int PacketSize(int pieceSize) => pieceSize + PacketCodec.DataOverhead;

    public static int PieceCount(int chunkLength, int pieceSize) => (chunkLength + pieceSize - 1) / pieceSize;

    public static int PieceLength(int chunkLength, int piece, int pieceSize) => Math.Min(pieceSize, chunkLength - (piece * pieceSize));

    /// <summary>Piece size for a path MTU: the largest that fits one unfragmented IP packet, capped at <see cref="LargePiece"/>.</summary>
    public static int ForMtu(int mtu, bool ipv6)
    {
        int room = mtu - (ipv6 ? 40 : 20) - 8 - PacketCodec.DataOverhead;
        return Math.Clamp(room, SmallPiece, LargePiece);
    }
}
