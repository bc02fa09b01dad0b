namespace Haul.Protocol;

/// <summary>
/// The bounds on the piece size START announces (docs/protocol.md): a START outside them is a protocol
/// error. The data channel (Transfer's DataFormat) picks its sizes within them.
/// </summary>
internal static class PieceSize
{
    public const int Min = 256;

    /// <summary>Largest piece: four packets still fit one 64 KiB GSO send.</summary>
    public const int Max = 16000;
}
