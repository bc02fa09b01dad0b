using FsCheck;
using FsCheck.Fluent;
using Haul.Content;
using Haul.Protocol;

namespace Haul.Tests.Protocol;

[Trait("Category", "Unit")]
public sealed class MessagesTests
{
    [Fact]
    public void Accept_RoundTrips()
    {
        var a = new Messages.Accept(7, 7400, new byte[32], [(0, 3), (5, 10)], 99, 2, "10.0.0.1");
        var d = Messages.Accept.Decode(a.Encode().ToArray(), 20);
        Assert.Equal(a.Need, d.Need);
        Assert.Equal((7u, (ushort)7400, 99L, 2, "10.0.0.1"), (d.SessionId, d.UdpPort, d.ReusedBytes, d.FilesAlreadyDone, d.UdpHost));
    }

    [Theory]
    [InlineData(5, 10, 12)] // beyond chunk count
    [InlineData(0, 0, 12)] // empty range
    public void Accept_RejectsBadRanges(int start, int count, int chunks)
    {
        var a = new Messages.Accept(1, 1, new byte[32], [(start, count)], 0, 0, string.Empty);
        Assert.Throws<HaulException>(() => Messages.Accept.Decode(a.Encode().ToArray(), chunks));
    }

    [Fact]
    public void ChunkDone_RejectsOutOfRangeIndexes()
    {
        var m = new Messages.ChunkDone([1, 2, 50], 0);
        Assert.Throws<HaulException>(() => Messages.ChunkDone.Decode(m.Encode().ToArray(), 10));
        Assert.Equal([1, 2, 50], Messages.ChunkDone.Decode(m.Encode().ToArray(), 51).Chunks);
    }

    [Fact]
    public void EveryDecoder_OnRandomBytes_OnlyThrowsHaulException() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), raw =>
        {
            var b = raw ?? [];
            var decoders = new Action[]
            {
                () => Messages.Hello.Decode(b),
                () => Messages.ErrorMessage.Decode(b),
                () => Messages.Offer.Decode(b),
                () => Messages.Accept.Decode(b, 1000),
                () => Messages.EarlyAccept.Decode(b),
                () => Messages.Start.Decode(b),
                () => Messages.ChunkDone.Decode(b, 1000),
                () => Messages.Join.Decode(b),
                () => Messages.DecodeChunkIndex(b, 1000),
                () => Haul.Transfer.Receipt.DecodeFrame(b),
                () => Haul.Transfer.Receipt.DecodeBody(b),
            };
            foreach (var d in decoders)
            {
                try
                {
                    d();
                }
                catch (HaulException)
                {
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Start_RejectsPieceSizesOutOfRange()
    {
        var bad = new WireWriter().Bytes(new byte[32]).U8(0).U16(10).ToArray();
        Assert.Throws<HaulException>(() => Messages.Start.Decode(bad));
        Assert.Equal(16000, Messages.Start.Decode(new Messages.Start(new byte[32], Messages.DataMode.Udp, 16000).Encode().ToArray()).PieceSize);
    }

    [Fact]
    public void Offer_RejectsAbsurdManifestLengths()
    {
        var w = new WireWriter().Bytes(new byte[32]).U64(1UL << 40);
        Assert.Throws<HaulException>(() => Messages.Offer.Decode(w.ToArray()));
        Assert.Equal(100, Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 100).Encode().ToArray()).Length);
    }

    [Fact]
    public void Offer_CarriesTheManifestCoding_AndAnOlderSendersOfferIsRaw()
    {
        var o = Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Brotli, 1200).Encode().ToArray());
        Assert.Equal((5000L, Messages.ManifestCoding.Brotli, 1200L), (o.Length, o.Coding, o.BytesOnWire));

        var legacy = Messages.Offer.Decode(new WireWriter().Bytes(new byte[32]).U64(5000).ToArray());
        Assert.Equal((Messages.ManifestCoding.Raw, 5000L), (legacy.Coding, legacy.BytesOnWire));

        Assert.Throws<HaulException>(() => Messages.Offer.Decode(new WireWriter().Bytes(new byte[32]).U64(5000).U8(9).U64(100).ToArray()));
        Assert.Throws<HaulException>(() => Messages.Offer.Decode(new WireWriter().Bytes(new byte[32]).U64(5000).U8(0).U64(100).ToArray()));
    }

    [Fact]
    public void Offer_CarriesTheEarlyWelcomeAndRootName_AndEarlyAcceptRoundTrips()
    {
        var o = Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Raw, 5000, true, "models").Encode().ToArray());
        Assert.Equal((true, "models"), (o.EarlyWelcome, o.RootName));

        // An offer from before the welcome: no early accept for it.
        var older = Messages.Offer.Decode(new WireWriter().Bytes(new byte[32]).U64(5000).U8(0).U64(5000).ToArray());
        Assert.Equal((false, ""), (older.EarlyWelcome, older.RootName));

        var secret = new byte[32];
        secret[3] = 7;
        var e = Messages.EarlyAccept.Decode(new Messages.EarlyAccept(42, 7400, secret, "hub").Encode().ToArray());
        Assert.Equal((42u, (ushort)7400, "hub"), (e.SessionId, e.UdpPort, e.UdpHost));
        Assert.Equal(secret, e.ReceiverSecret);
        Assert.Throws<HaulException>(() => Messages.EarlyAccept.Decode(new Messages.EarlyAccept(42, 0, secret, "").Encode().ToArray()));
    }

    [Fact]
    public void Offer_CarriesASessionProposal_OnlyWithAnEarlyWelcome()
    {
        var half = new byte[32];
        half[9] = 5;
        var o = Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Raw, 5000, true, "models", new Messages.SessionProposal(77, half, half, 1400)).Encode().ToArray());
        Assert.Equal(77u, o.Proposal!.SessionId);
        Assert.Equal(half, o.Proposal.ReceiverSecret);
        Assert.Equal(half, o.Proposal.SenderSecret);
        Assert.Equal(1400, o.Proposal.PieceSize);
        Assert.Throws<HaulException>(() => Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Raw, 5000, true, "m", new Messages.SessionProposal(77, half, half, 10)).Encode().ToArray()));
        Assert.Null(Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Raw, 5000, true, "models").Encode().ToArray()).Proposal);

        // A proposal without the welcome, or with session id 0 (never a session), is a protocol error.
        Assert.Throws<HaulException>(() => Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Raw, 5000, false, "m", new Messages.SessionProposal(77, half, half, 1400)).Encode().ToArray()));
        Assert.Throws<HaulException>(() => Messages.Offer.Decode(new Messages.Offer(Hash256.Of("x"u8), 5000, Messages.ManifestCoding.Raw, 5000, true, "m", new Messages.SessionProposal(0, half, half, 1400)).Encode().ToArray()));
    }

    [Fact]
    public void Manifest_OfManyFiles_GoesCompressed_AndDecodesToTheSameBytes()
    {
        using var tmp = new Haul.Tests.Support.TempDir();
        for (int i = 0; i < 2000; i++)
        {
            string dir = Path.Combine(tmp.Path, "set", $"class-{i % 20:D2}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"image-{i:D6}.jpg"), $"pixels {i}");
        }

        var manifest = TreeScanner.Scan(Path.Combine(tmp.Path, "set")).Manifest.Encoded;

        var (coding, wire) = Messages.EncodeManifest(manifest);

        Assert.Equal(Messages.ManifestCoding.Brotli, coding);
        Assert.True(wire.Length < manifest.Length * 0.8, $"{wire.Length} of {manifest.Length} bytes");
        Assert.Equal(manifest, Messages.DecodeManifest(coding, wire, manifest.Length));
        // Random bytes (chunk hashes alone) do not shrink and go raw.
        var random = new byte[4096];
        Random.Shared.NextBytes(random);
        Assert.Equal(Messages.ManifestCoding.Raw, Messages.EncodeManifest(random).Coding);
        // A stated length that the data does not decode to is corrupt, never truncated or overrun.
        Assert.Equal(ErrorCode.CorruptData, Assert.Throws<HaulException>(() => Messages.DecodeManifest(coding, wire, manifest.Length - 1)).Code);
        Assert.Equal(ErrorCode.CorruptData, Assert.Throws<HaulException>(() => Messages.DecodeManifest(coding, wire, manifest.Length + 1)).Code);
    }
}
