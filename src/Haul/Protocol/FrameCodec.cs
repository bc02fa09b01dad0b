using System.Buffers.Binary;

namespace Haul.Protocol;

/// <summary>Frame header encoding and validation, separate from I/O so it can be tested on bytes.</summary>
internal static class FrameCodec
{
    public static void WriteHeader(Span<byte> dest, FrameType type, int payloadLength)
    {
        dest[0] = Frame.Version;
        dest[1] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(dest[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], (uint)payloadLength);
    }

    /// <summary>
    /// Validates a header and returns the payload length; throws a protocol error on anything else,
    /// including a length over <paramref name="maxPayload"/> (smaller than <see cref="Frame.MaxPayload"/>
    /// before a connection is known to come from a paired peer).
    /// </summary>
    public static int ReadHeader(ReadOnlySpan<byte> header, out FrameType type, int maxPayload = Frame.MaxPayload)
    {
        if (header.Length < Frame.HeaderSize)
        {
            ThrowHelper.Protocol("frame header is truncated");
        }

        if (header[0] != Frame.Version)
        {
            ThrowHelper.Protocol($"frame version {header[0]} is not supported (this node speaks {Frame.Version})");
        }

        type = (FrameType)header[1];
        if (!Enum.IsDefined(type))
        {
            ThrowHelper.Protocol($"unknown frame type {header[1]}");
        }

        uint len = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (len > (uint)Math.Min(maxPayload, Frame.MaxPayload))
        {
            ThrowHelper.Protocol($"frame of {len} bytes exceeds the {Math.Min(maxPayload, Frame.MaxPayload)}-byte limit");
        }

        return (int)len;
    }
}
