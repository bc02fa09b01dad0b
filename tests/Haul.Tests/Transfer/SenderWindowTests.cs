using Haul.Transfer;

namespace Haul.Tests.Transfer;

/// <summary>
/// The sender's window in round trips: under loss every chunk waits out rounds of retransmission, and
/// a window that ignores them stalls the sender on long lossy paths (600 ms / 5%: 80 → 86 Mbit/s).
/// </summary>
[Trait("Category", "Unit")]
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

/// <summary>
/// Loss recovery's two paths: NACKs resend a piece the receiver reports missing once it has been out
/// 1.25 × SRTT; the timeout catches what no report covers (a chunk's lost tail). The timeout must come
/// after the NACK's turn, or on a long path, where RTT samples move smoothly and rttvar stays tiny, it
/// fires first, before acknowledgements arrive, and resends pieces that were not lost (600 ms / 5%:
/// 1.3% of packets arrived twice; after: 0.02%).
/// </summary>
[Trait("Category", "Unit")]
public sealed class RetransmitTimeoutTests
{
    [Theory]
    [InlineData(0.001, 0.0001)]
    [InlineData(0.05, 0.001)]
    [InlineData(0.2, 0.002)]
    [InlineData(0.6, 0.002)]
    [InlineData(0.8, 0.0)]
    public void Timeout_ComesAfterTheNackGuard(double srtt, double rttvar)
    {
        Assert.True(UdpSender.RetransmitTimeout(srtt, rttvar) > UdpSender.NackGuard(srtt), $"timeout {UdpSender.RetransmitTimeout(srtt, rttvar)} s, NACK guard {UdpSender.NackGuard(srtt)} s");
    }

    [Fact]
    public void Timeout_KeepsTcpsFormulaWhereTheRttVaries_AndA30msFloor()
    {
        Assert.Equal(0.05 + (4 * 0.05), UdpSender.RetransmitTimeout(0.05, 0.05), 6);
        Assert.Equal(0.03, UdpSender.RetransmitTimeout(0.001, 0.0005), 6);
        Assert.Equal(0.9, UdpSender.RetransmitTimeout(0.6, 0.002), 6);
    }
}
