using Haul.Transfer;

namespace Haul.Tests.Transfer;

public sealed class RateControllerTests
{
    private const long Freq = 1_000_000;

    [Fact]
    public void Grows_WhenLossIsLow_AndIgnoresRandomLossBelowTheThreshold()
    {
        var rc = new RateController(10e6, 1e6, 1e9);
        ulong pn = 0, got = 0;
        long t = 0;
        rc.OnFeedback(t, Freq, pn, got, 0.001, 1444);
        for (int i = 0; i < 10; i++)
        {
            t += 25_000;
            pn += 1000;
            got += 950; // 5% random loss
            rc.OnFeedback(t, Freq, pn, got, 0.001, 1444);
        }

        Assert.True(rc.Rate > 50e6, $"{rc.Rate}");
    }

    [Fact]
    public void BacksOff_TowardsTheDeliveryRate_UnderHeavyLoss()
    {
        var rc = new RateController(500e6, 1e6, 1e9);
        rc.OnFeedback(0, Freq, 0, 0, 0.001, 1000);
        rc.OnFeedback(25_000, Freq, 10_000, 5000, 0.001, 1000); // half lost: 5000 × 1000 B in 25 ms = 200 MB/s delivered
        Assert.InRange(rc.Rate, 1e6, 200e6 + 1);
    }
}
