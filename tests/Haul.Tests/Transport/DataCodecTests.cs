using Haul.Content;
using Haul.Transport;

namespace Haul.Tests.Transport;

[Trait("Category", "Unit")]
public sealed class DataCodecTests
{
    [Fact]
    public void DataHeader_WritesTheDocumentedBytes_AndReadsThemBack()
    {
        var b = new byte[DataCodec.Overhead + 3];
        PacketHeaderCodec.Write(b, new PacketHeader(PacketType.Data, 0x1234, 0xA1B2C3D4, 0x0102030405060708));
        DataCodec.Write(b, new DataHeader(0x11223344, 0x55667788, 0x99AABBCC));

        // docs/protocol.md, "Data channel": type, flags, u16 length, u32 session, u64 number, u32 chunk, u32 offset, u32 time.
        byte[] expected =
        [
            1, 0, 0x12, 0x34, 0xA1, 0xB2, 0xC3, 0xD4, 1, 2, 3, 4, 5, 6, 7, 8,
            0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC,
        ];
        Assert.Equal(expected, b[..DataCodec.HeaderSize]);
        Assert.True(PacketHeaderCodec.TryRead(b, out var h));
        Assert.Equal(new PacketHeader(PacketType.Data, 0x1234, 0xA1B2C3D4, 0x0102030405060708), h);
        Assert.Equal(0x0102030405060708UL, PacketHeaderCodec.ReadNumber(b));
        Assert.Equal(0x1234, PacketHeaderCodec.ReadLength(b));
        Assert.True(DataCodec.TryRead(b, out var d));
        Assert.Equal(new DataHeader(0x11223344, 0x55667788, 0x99AABBCC), d);
        Assert.Equal(3, DataCodec.PayloadLength(b.Length));
    }

    [Fact]
    public void ASealedDataPacket_ReadsAsWhatWasSealed()
    {
        var keys = SessionKeys.Derive(new byte[32], new byte[32], Hash256.Of("m"u8));
        using var tx = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt);
        var pkt = new byte[2000];
        tx.Seal(PacketType.Ack, 5, new byte[3], pkt); // packet number 0
        int n = tx.SealData(42, 7, 2800, 123, new byte[1400], pkt);
        Assert.True(PacketHeaderCodec.TryRead(pkt.AsSpan(0, n), out var h));
        Assert.Equal(new PacketHeader(PacketType.Data, (ushort)n, 42, 1), h);
        Assert.True(DataCodec.TryRead(pkt.AsSpan(0, n), out var d));
        Assert.Equal(new DataHeader(7, 2800, 123), d);
        Assert.Equal(1400, DataCodec.PayloadLength(n));
        Assert.Equal(0, pkt[1]); // flags
    }

    [Fact]
    public void ShortOrRandomBytes_AreRefusedOrReadWithinBounds()
    {
        Assert.False(PacketHeaderCodec.TryRead(new byte[PacketHeaderCodec.Size - 1], out _));
        Assert.False(DataCodec.TryRead(new byte[DataCodec.Overhead - 1], out _)); // a header with no room for the tag
        Assert.Equal(0, PacketHeaderCodec.ReadLength(new byte[3]));
        Assert.Equal(-1, PacketCodec.PlainLength([]));
        var rnd = new Random(19);
        for (int i = 0; i < 5_000; i++)
        {
            var b = new byte[rnd.Next(0, 80)];
            rnd.NextBytes(b);
            Assert.Equal(b.Length >= PacketHeaderCodec.Size, PacketHeaderCodec.TryRead(b, out var h));
            Assert.Equal(b.Length >= DataCodec.Overhead, DataCodec.TryRead(b, out var d));
            _ = PacketHeaderCodec.ReadLength(b);
            if (b.Length >= DataCodec.Overhead)
            {
                var back = new byte[DataCodec.HeaderSize];
                PacketHeaderCodec.Write(back, h);
                DataCodec.Write(back, d);
                back[1] = b[1]; // flags are written 0 and ignored when read
                Assert.Equal(b[..DataCodec.HeaderSize], back);
            }
        }
    }

    [Fact]
    public void OpeningAnEmptyOrHeaderlessPacket_IsARefusal_NotAnException()
    {
        var keys = SessionKeys.Derive(new byte[32], new byte[32], Hash256.Of("m"u8));
        using var rx = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt);
        Assert.False(rx.Open([], []));
        Assert.False(rx.Open(new byte[5], []));
        Assert.Equal(2, rx.Forged);
    }
}
