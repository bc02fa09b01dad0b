using System.IO.Compression;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>
/// A paired peer that offers manifests sized to hurt: the receiver refuses them with a one-line
/// error, logs it, and its memory stays bounded (the nodes run in this process, so the test counts
/// the bytes the whole process allocated).
/// </summary>
[Collection("nodes")]
public sealed class HostileManifestTests
{
    [Fact]
    public async Task AnOfferClaiming2Pow34Bytes_IsRefusedWithOneLine_AndNothingIsAllocatedForIt()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var bomb = Bomb(64 << 20);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = await OfferAsync(pair, 1L << 34, bomb);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(ErrorCode.ProtocolError, ex.Code);
        Assert.Contains("refused a manifest of 17179869184 bytes", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.True(allocated < 64L << 20, $"{allocated:N0} bytes allocated");
        await TrustAndSafetyTests.WaitFor(() => pair.B.Logs.Contains("refused a manifest of 17179869184 bytes"));
    }

    [Fact]
    public async Task AnOfferOverTheLimit_IsRefusedBeforeItsBufferIsAllocated()
    {
        // 1 GiB was under the old 2^34 ceiling: the receiver allocated the claimed size up front.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var bomb = Bomb(1 << 20);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = await OfferAsync(pair, 1L << 30, bomb);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(ErrorCode.ProtocolError, ex.Code);
        Assert.Contains("refused a manifest", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 128L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public async Task ABrotliBombUnderAClaimWithinTheLimit_StopsDecodingAtTheClaim()
    {
        // 1.5 KB on the wire that would inflate to 256 MiB, under a claim of 8 MiB.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var bomb = Bomb(256 << 20);
        Assert.True(bomb.Length < 64 << 10, $"bomb of {bomb.Length} bytes");

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = await OfferAsync(pair, 8 << 20, bomb);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(ErrorCode.CorruptData, ex.Code);
        Assert.Contains("does not decompress to its stated length", ex.Message, StringComparison.Ordinal);
        Assert.True(allocated < 64L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public async Task AClaimedRawManifestThatNeverArrives_CostsOnlyWhatWasSent()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        await using var conn = await PeerConnection.ConnectAsync(pair.A.Node.Identity, "lab-a", pair.B.Node.Identity.Id, pair.B.Address, false, TimeSpan.FromSeconds(10));

        long before = GC.GetTotalAllocatedBytes(precise: true);
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(Hash256.Of("x"u8), ManifestCodec.MaxEncodedLength).Encode());
        await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(new byte[1000]));
        await Task.Delay(500);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(allocated < 32L << 20, $"{allocated:N0} bytes allocated for a 256 MiB claim with 1,000 bytes sent");
    }

    private static async Task<HaulException> OfferAsync(NodePair pair, long claimed, byte[] wire)
    {
        await using var conn = await PeerConnection.ConnectAsync(pair.A.Node.Identity, "lab-a", pair.B.Node.Identity.Id, pair.B.Address, false, TimeSpan.FromSeconds(10));
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(Hash256.Of(wire), claimed, Messages.ManifestCoding.Brotli, wire.Length).Encode());
        try
        {
            await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(wire));
        }
        catch (HaulException)
        {
            // The receiver may refuse and close before the part is written.
        }

        return await Assert.ThrowsAsync<HaulException>(async () => await conn.Channel.ReceiveAsync());
    }

    /// <summary>Brotli of <paramref name="decoded"/> zero bytes: a few hundred bytes per 64 MiB.</summary>
    private static byte[] Bomb(int decoded)
    {
        using var encoder = new BrotliEncoder(quality: 5, window: 24);
        var zeros = new byte[1 << 20];
        var output = new byte[1 << 20];
        using var wire = new MemoryStream();
        for (int done = 0; done < decoded; done += zeros.Length)
        {
            encoder.Compress(zeros, output, out int consumed, out int written, isFinalBlock: false);
            Assert.Equal(zeros.Length, consumed);
            wire.Write(output, 0, written);
        }

        System.Buffers.OperationStatus status;
        do
        {
            status = encoder.Compress([], output, out _, out int written, isFinalBlock: true);
            wire.Write(output, 0, written);
        }
        while (status == System.Buffers.OperationStatus.DestinationTooSmall);

        return wire.ToArray();
    }
}
