using Haul.Transfer;

namespace Haul.Tests.Transfer;

/// <summary>
/// The sender's window in round trips: under loss every chunk waits out rounds of retransmission, and
/// a window that ignores them stalls the sender on long lossy paths (600 ms / 5%: 80 → 86 Mbit/s).
/// </summary>
public sealed class SenderWindowTests
{
    private const int Pieces = (1 << 20) / 1428;

    [Fact]
    public void LosslessPath_KeepsSixRoundTrips()
    {
        Assert.Equal(6, UdpSender.WindowRoundTrips(0, Pieces));
        Assert.Equal(6, UdpSender.WindowRoundTrips(0.00005, Pieces));
    }

    [Theory]
    [InlineData(0.01, 9.0)]
    [InlineData(0.05, 11.5)]
    [InlineData(0.10, 14.0)]
    public void LossyPaths_GetARoundTripPerRetransmissionRound(double loss, double expected)
    {
        Assert.Equal(expected, UdpSender.WindowRoundTrips(loss, Pieces), 3);
    }

    [Fact]
    public void MoreLossOrLargerChunks_NeverShrinkTheWindow()
    {
        double last = 0;
        for (double loss = 0; loss <= 0.5; loss += 0.005)
        {
            double w = UdpSender.WindowRoundTrips(loss, Pieces);
            Assert.True(w >= last, $"window shrank at {loss:P1}");
            Assert.True(UdpSender.WindowRoundTrips(loss, Pieces * 8) >= w);
            last = w;
        }
    }
}
