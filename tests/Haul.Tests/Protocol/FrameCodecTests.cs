using FsCheck;
using FsCheck.Fluent;
using Haul.Protocol;

namespace Haul.Tests.Protocol;

[Trait("Category", "Unit")]
public sealed class FrameCodecTests
{
    [Fact]
    public void Header_RoundTrips()
    {
        var h = new byte[Frame.HeaderSize];
        FrameCodec.WriteHeader(h, FrameType.ChunkDone, 1234);
        Assert.Equal(1234, FrameCodec.ReadHeader(h, out var t));
        Assert.Equal(FrameType.ChunkDone, t);
    }

    [Theory]
    [InlineData(new byte[] { 2, 1, 0, 0, 0, 0, 0, 0 })] // version
    [InlineData(new byte[] { 1, 99, 0, 0, 0, 0, 0, 0 })] // type
    [InlineData(new byte[] { 1, 1, 0, 0, 0x7F, 0, 0, 0 })] // oversized length
    [InlineData(new byte[] { 1, 1, 0 })] // truncated
    public void Header_RejectsBadInput(byte[] header) =>
        Assert.Equal(ErrorCode.ProtocolError, Assert.Throws<HaulException>(() => FrameCodec.ReadHeader(header, out _)).Code);

    [Fact]
    public void Header_OfRandomBytes_OnlyThrowsProtocolErrors() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            try
            {
                int len = FrameCodec.ReadHeader(bytes ?? [], out _);
                return len is >= 0 and <= Frame.MaxPayload;
            }
            catch (HaulException ex)
            {
                return ex.Code == ErrorCode.ProtocolError;
            }
        }).QuickCheckThrowOnFailure();

    [Fact]
    public async Task Channel_CarriesFramesAndRaisesPeerErrors()
    {
        using var ms = new MemoryStream();
        var tx = new ControlChannel(ms);
        await tx.SendAsync(FrameType.Hello, new Messages.Hello(1, "lab-a", "1.0.0").Encode());
        await tx.SendErrorAsync(new HaulException(ErrorCode.DiskFull, "disk full", "free space"));
        ms.Position = 0;
        var rx = new ControlChannel(ms);
        var hello = Messages.Hello.Decode((await rx.ExpectAsync(FrameType.Hello)).Payload);
        Assert.Equal("lab-a", hello.NodeName);
        var ex = await Assert.ThrowsAsync<HaulException>(async () => await rx.ReceiveAsync());
        Assert.Equal(ErrorCode.DiskFull, ex.Code);
        Assert.Equal("free space", ex.Hint);
        var gone = await Assert.ThrowsAsync<HaulException>(async () => await rx.ReceiveAsync());
        Assert.Equal(ErrorCode.PeerWentAway, gone.Code);
    }
}
