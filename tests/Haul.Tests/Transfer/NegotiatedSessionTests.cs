using Haul.Protocol;
using Haul.Transfer;
using Haul.Transport;

namespace Haul.Tests.Transfer;

/// <summary>What the sender keeps of a negotiation: the START it sends, and the need list that follows an early accept.</summary>
[Trait("Category", "Unit")]
public sealed class NegotiatedSessionTests
{
    private static readonly byte[] Theirs = [.. Enumerable.Repeat((byte)7, 32)];

    [Fact]
    public void NeedListFrom_ExpandsTheRanges_AndKeepsWhatTheReceiverHolds()
    {
        var accept = new Messages.Accept(42, 7400, Theirs, [(2, 3), (7, 1)], ReusedBytes: 123, FilesAlreadyDone: 4, UdpHost: string.Empty);

        var need = Session().NeedListFrom(accept);

        Assert.Equal([2, 3, 4, 7], need.Chunks);
        Assert.Equal((123L, 4), (need.ReusedBytes, need.FilesAlreadyDone));
    }

    [Theory]
    [InlineData(43u, (ushort)7400, (byte)7)]
    [InlineData(42u, (ushort)7401, (byte)7)]
    [InlineData(42u, (ushort)7400, (byte)8)]
    public void NeedListFrom_RefusesAnAcceptForAnotherSession(uint id, ushort port, byte secret)
    {
        // Data already flows under the early accept's keys: an ACCEPT naming other ones is a protocol error.
        var accept = new Messages.Accept(id, port, [.. Enumerable.Repeat(secret, 32)], [(0, 1)], 0, 0, string.Empty);

        var ex = Assert.Throws<HaulException>(() => Session().NeedListFrom(accept));

        Assert.Equal(ErrorCode.ProtocolError, ex.Code);
    }

    [Theory]
    [InlineData(true, (byte)Messages.DataMode.Udp)]
    [InlineData(false, (byte)Messages.DataMode.Tcp)]
    public void EncodeStart_CarriesTheSendersHalf_TheModeAndThePieceSize(bool udp, byte modeByte)
    {
        var mode = (Messages.DataMode)modeByte;
        var s = Session() with { UdpMode = udp, PieceSize = 1400 };

        var start = Messages.Start.Decode(s.EncodeStart().WrittenMemory.ToArray());

        Assert.Equal(s.SenderSecret, start.SenderSecret);
        Assert.Equal((mode, 1400), (start.Mode, start.PieceSize));
    }

    private static NegotiatedSession Session()
    {
        byte[] mine = [.. Enumerable.Repeat((byte)1, 32)];
        var keys = SessionKeys.Derive(mine, Theirs, default);
        return new NegotiatedSession(42, mine, Theirs, keys, 7400, 1200, true, null, false, true, false, 0, null);
    }
}
