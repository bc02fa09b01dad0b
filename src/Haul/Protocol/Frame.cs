namespace Haul.Protocol;

/// <summary>
/// One control frame. Header (8 bytes): u8 version, u8 type, u16 reserved (0), u32 payload length.
/// The payload array is owned by the frame's receiver.
/// </summary>
internal readonly record struct Frame(FrameType Type, byte[] Payload)
{
    public const byte Version = 1;
    public const int HeaderSize = 8;
    public const int MaxPayload = 16 * 1024 * 1024;

    /// <summary>The limit until a connection is known to come from a paired peer: HELLO and JOIN are a few hundred bytes.</summary>
    public const int MaxHandshakePayload = 4096;
}
