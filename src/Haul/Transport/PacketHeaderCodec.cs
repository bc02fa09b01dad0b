using System.Buffers.Binary;

namespace Haul.Transport;

/// <summary>The cleartext header every data-channel packet starts with.</summary>
/// <param name="Type">DATA, PROBE, PROBE_ACK or ACK (any byte when read: the caller decides what it takes).</param>
/// <param name="Length">The whole packet's length, header and tag included: splits a GRO-coalesced datagram.</param>
/// <param name="SessionId">The session the packet belongs to (routes it on a shared port).</param>
/// <param name="Number">The packet number: the nonce's last 8 bytes and the replay window's input.</param>
internal readonly record struct PacketHeader(PacketType Type, ushort Length, uint SessionId, ulong Number);

/// <summary>
/// The common header's layout, in one place for both ends (docs/protocol.md, "Data channel"):
/// <code>
/// 0 u8 type   1 u8 flags (0; readers ignore it)   2 u16 packet length   4 u32 session id   8 u64 packet number
/// </code>
/// A reader checks the length it is given before reading; what the fields mean (a known type, a length
/// that fits the datagram) is checked by the caller.
/// </summary>
internal static class PacketHeaderCodec
{
    public const int Size = 16;

    public static void Write(Span<byte> a, in PacketHeader h)
    {
        a[0] = (byte)h.Type;
        a[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(a[2..], h.Length);
        BinaryPrimitives.WriteUInt32BigEndian(a[4..], h.SessionId);
        BinaryPrimitives.WriteUInt64BigEndian(a[8..], h.Number);
    }

    public static bool TryRead(ReadOnlySpan<byte> a, out PacketHeader h)
    {
        if (a.Length < Size)
        {
            h = default;
            return false;
        }

        h = new PacketHeader(
            (PacketType)a[0],
            BinaryPrimitives.ReadUInt16BigEndian(a[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(a[4..]),
            BinaryPrimitives.ReadUInt64BigEndian(a[8..]));
        return true;
    }

    /// <summary>The length field of the packet at the start of <paramref name="a"/>, or 0 when fewer than 4 bytes are there.</summary>
    public static int ReadLength(ReadOnlySpan<byte> a) => a.Length < 4 ? 0 : BinaryPrimitives.ReadUInt16BigEndian(a[2..]);

    /// <summary>The packet number of a packet whose header has been checked (at least <see cref="Size"/> bytes).</summary>
    public static ulong ReadNumber(ReadOnlySpan<byte> a) => BinaryPrimitives.ReadUInt64BigEndian(a[8..]);
}
