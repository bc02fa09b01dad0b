using System.Buffers.Binary;

namespace Haul.Transfer;

/// <summary>The fixed part of an ACK: what the receiver measured when it sent it.</summary>
/// <param name="Echo">The send timestamp (µs, the sender's clock) of the newest DATA packet, echoed for an RTT sample.</param>
/// <param name="HoldMicros">How long the receiver held that echo before this ACK (taken off the sample).</param>
/// <param name="MaxPn">The highest packet number authenticated.</param>
/// <param name="Received">Packets authenticated so far.</param>
/// <param name="ReceivedBytes">Their bytes.</param>
/// <param name="RxMicros">The receiver's 32-bit µs clock now (wraps every 71 minutes).</param>
/// <param name="OneWayDelay">Receive time minus send time of the echoed packet (µs, two clocks: only its changes mean anything).</param>
/// <param name="Entries">Per-chunk entries that follow.</param>
internal readonly record struct AckHeader(uint Echo, uint HoldMicros, ulong MaxPn, ulong Received, ulong ReceivedBytes, uint RxMicros, int OneWayDelay, ushort Entries);

/// <summary>
/// The ACK's plaintext layout, in one place for both ends (docs/protocol.md, "Data channel"):
/// <code>
/// header  u32 echo, u32 hold µs, u64 max packet number, u64 packets, u64 bytes, u32 receiver µs clock,
///         i32 one-way delay µs, u16 entries                                              (42 bytes)
/// entry   u32 chunk, u32 pieces seen up to, u16 ranges, then ranges × { u32 first missing, u32 count }
/// trailer u16 n, n × u32 chunk verified and journaled
/// </code>
/// An entry with no ranges and every piece seen says the chunk is complete. Readers check every length
/// against what arrived; values (chunk numbers, ranges) are checked by the caller against its state.
/// </summary>
internal static class AckCodec
{
    public const int HeaderSize = 42;
    public const int EntrySize = 10;
    public const int RangeSize = 8;
    public const int DoneSize = 4;

    public static void WriteHeader(Span<byte> a, in AckHeader h)
    {
        BinaryPrimitives.WriteUInt32BigEndian(a, h.Echo);
        BinaryPrimitives.WriteUInt32BigEndian(a[4..], h.HoldMicros);
        BinaryPrimitives.WriteUInt64BigEndian(a[8..], h.MaxPn);
        BinaryPrimitives.WriteUInt64BigEndian(a[16..], h.Received);
        BinaryPrimitives.WriteUInt64BigEndian(a[24..], h.ReceivedBytes);
        BinaryPrimitives.WriteUInt32BigEndian(a[32..], h.RxMicros);
        BinaryPrimitives.WriteInt32BigEndian(a[36..], h.OneWayDelay);
        BinaryPrimitives.WriteUInt16BigEndian(a[40..], h.Entries);
    }

    /// <summary>Sets the entry count once the entries are written.</summary>
    public static void WriteEntryCount(Span<byte> a, int entries) => BinaryPrimitives.WriteUInt16BigEndian(a[40..], (ushort)entries);

    public static bool TryReadHeader(ReadOnlySpan<byte> a, out AckHeader h)
    {
        if (a.Length < HeaderSize)
        {
            h = default;
            return false;
        }

        h = new AckHeader(
            BinaryPrimitives.ReadUInt32BigEndian(a),
            BinaryPrimitives.ReadUInt32BigEndian(a[4..]),
            BinaryPrimitives.ReadUInt64BigEndian(a[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(a[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(a[24..]),
            BinaryPrimitives.ReadUInt32BigEndian(a[32..]),
            BinaryPrimitives.ReadInt32BigEndian(a[36..]),
            BinaryPrimitives.ReadUInt16BigEndian(a[40..]));
        return true;
    }

    public static void WriteEntry(Span<byte> a, int chunk, int seenUpTo, int ranges)
    {
        BinaryPrimitives.WriteUInt32BigEndian(a, (uint)chunk);
        BinaryPrimitives.WriteUInt32BigEndian(a[4..], (uint)seenUpTo);
        BinaryPrimitives.WriteUInt16BigEndian(a[8..], (ushort)ranges);
    }

    /// <summary>Rewrites an entry's "seen up to" and range count after its ranges are known.</summary>
    public static void FinishEntry(Span<byte> entry, int seenUpTo, int ranges)
    {
        BinaryPrimitives.WriteUInt32BigEndian(entry[4..], (uint)seenUpTo);
        BinaryPrimitives.WriteUInt16BigEndian(entry[8..], (ushort)ranges);
    }

    public static (int Chunk, int SeenUpTo, int Ranges) ReadEntry(ReadOnlySpan<byte> a) =>
        ((int)BinaryPrimitives.ReadUInt32BigEndian(a), (int)BinaryPrimitives.ReadUInt32BigEndian(a[4..]), BinaryPrimitives.ReadUInt16BigEndian(a[8..]));

    public static void WriteRange(Span<byte> a, int firstMissing, int count)
    {
        BinaryPrimitives.WriteUInt32BigEndian(a, (uint)firstMissing);
        BinaryPrimitives.WriteUInt32BigEndian(a[4..], (uint)count);
    }

    public static (int FirstMissing, int Count) ReadRange(ReadOnlySpan<byte> a) =>
        ((int)BinaryPrimitives.ReadUInt32BigEndian(a), (int)BinaryPrimitives.ReadUInt32BigEndian(a[4..]));

    public static void WriteDoneCount(Span<byte> a, int n) => BinaryPrimitives.WriteUInt16BigEndian(a, (ushort)n);

    public static void WriteDone(Span<byte> a, int chunk) => BinaryPrimitives.WriteUInt32BigEndian(a, (uint)chunk);

    /// <summary>The trailer at <paramref name="a"/>: the chunks listed, or none when it is missing or cut short.</summary>
    public static int[] ReadDone(ReadOnlySpan<byte> a)
    {
        if (a.Length < 2)
        {
            return [];
        }

        int n = BinaryPrimitives.ReadUInt16BigEndian(a);
        if (n == 0 || 2 + (n * DoneSize) > a.Length)
        {
            return [];
        }

        var done = new int[n];
        for (int i = 0; i < n; i++)
        {
            done[i] = (int)BinaryPrimitives.ReadUInt32BigEndian(a[(2 + (i * DoneSize))..]);
        }

        return done;
    }
}
