using FsCheck;
using FsCheck.Fluent;
using Haul.Content;
using Haul.Tests.Support;
using Haul.Transport;

namespace Haul.Tests.Transport;

[Trait("Category", "Unit")]
public sealed class PacketCodecTests
{
    private static (PacketCodec Tx, PacketCodec Rx) Pair()
    {
        var keys = SessionKeys.Derive(new byte[32], Enumerable.Repeat((byte)1, 32).ToArray(), Hash256.Of("m"u8));
        return (new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt), new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt));
    }

    [Fact]
    public void DataPacket_RoundTripsAndCarriesItsPlacement()
    {
        var (tx, rx) = Pair();
        var payload = Enumerable.Range(0, 1400).Select(i => (byte)i).ToArray();
        var pkt = new byte[2000];
        int n = tx.SealData(42, 7, 2800, 123, payload, pkt);
        Assert.Equal(1400 + PacketCodec.DataOverhead, n);
        Assert.True(PacketCodec.TryPeek(pkt.AsSpan(0, n), out var type, out int len, out uint sid));
        Assert.Equal((PacketType.Data, n, 42u), (type, len, sid));
        var plain = new byte[PacketCodec.PlainLength(pkt.AsSpan(0, n))];
        Assert.True(rx.Open(pkt.AsSpan(0, n), plain));
        Assert.Equal(payload, plain);
    }

    [AesNiTheory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void PacketsCrossBetweenTheHardwareAndTheLibraryAead(bool sealHardware, bool openHardware) => PacketsCross(sealHardware, openHardware);

    [Fact]
    public void PacketsCrossBetweenTwoLibraryAeads() => PacketsCross(false, false);

    private static void PacketsCross(bool sealHardware, bool openHardware)
    {
        // Two nodes may differ (one CPU without AES-NI, or HAUL_AESGCM=platform): the packets are the same.
        var keys = SessionKeys.Derive(new byte[32], Enumerable.Repeat((byte)1, 32).ToArray(), Hash256.Of("m"u8));
        using var tx = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt, sealHardware);
        using var rx = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt, openHardware);
        var pkt = new byte[20_000];
        int[] sizes = [1400, 1303, 1, 9000, 16_000]; // the hardware AEAD takes up to 8 KiB, the library the rest
        for (int i = 0; i < sizes.Length; i++)
        {
            var payload = Enumerable.Range(i, sizes[i]).Select(b => (byte)b).ToArray();
            int n = tx.SealData(42, 7, (uint)(i * 1400), 123, payload, pkt);
            var plain = new byte[PacketCodec.PlainLength(pkt.AsSpan(0, n))];
            Assert.True(rx.Open(pkt.AsSpan(0, n), plain));
            Assert.Equal(payload, plain);
            pkt[n - 1] ^= 1;
            Assert.False(rx.Open(pkt.AsSpan(0, n), plain));
        }

        Assert.Equal(5, rx.Forged);
    }

    [Fact]
    public void Directions_UseDifferentKeys()
    {
        var keys = SessionKeys.Derive(new byte[32], new byte[32], Hash256.Of("m"u8));
        Assert.NotEqual(keys.SenderToReceiverKey, keys.ReceiverToSenderKey);
        Assert.NotEqual(keys.SenderToReceiverSalt, keys.ReceiverToSenderSalt);
    }

    [Fact]
    public void EveryFlippedBit_IsRejectedAndCounted()
    {
        var (tx, rx) = Pair();
        var pkt = new byte[200];
        int n = tx.SealData(1, 2, 0, 0, new byte[100], pkt);
        int rejected = 0;
        for (int i = 0; i < n * 8; i += 7)
        {
            var bad = pkt.AsSpan(0, n).ToArray();
            bad[i / 8] ^= (byte)(1 << (i % 8));
            int plainLen = bad.Length - PacketCodec.AadLength((PacketType)bad[0]) - PacketCodec.TagSize;
            if (plainLen < 0 || !rx.Open(bad, new byte[Math.Max(plainLen, 0)]))
            {
                rejected++;
            }
        }

        Assert.Equal((n * 8 + 6) / 7, rejected);
        Assert.True(rx.Forged > 0);
    }

    [Fact]
    public void ReplayedPacket_IsRejectedAndCounted()
    {
        var (tx, rx) = Pair();
        var pkt = new byte[200];
        int n = tx.Seal(PacketType.Ack, 1, new byte[10], pkt);
        var plain = new byte[10];
        Assert.True(rx.Open(pkt.AsSpan(0, n), plain));
        Assert.False(rx.Open(pkt.AsSpan(0, n), plain));
        Assert.Equal(1, rx.Replayed);
    }

    [Fact]
    public void RandomDatagrams_AreNeverAccepted() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), raw =>
        {
            var (_, rx) = Pair();
            var b = raw ?? [];
            if (b.Length < PacketCodec.Overhead)
            {
                return !PacketCodec.TryPeek(b, out _, out _, out _);
            }

            int plainLen = b.Length - PacketCodec.AadLength((PacketType)b[0]) - PacketCodec.TagSize;
            return plainLen < 0 || !rx.Open(b, new byte[plainLen]);
        }).QuickCheckThrowOnFailure();
}
