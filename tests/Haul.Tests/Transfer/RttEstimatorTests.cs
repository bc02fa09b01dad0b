using Haul.Transfer;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class RttEstimatorTests
{
    [Fact]
    public void TheFirstSample_SetsTheEstimate_AndASteadyPathConverges()
    {
        var rtt = new RttEstimator();
        Assert.False(rtt.Measured);
        rtt.OnSample(0.6);
        Assert.True(rtt.Measured);
        Assert.Equal(0.6, rtt.Srtt, 9);
        Assert.Equal(0.3, rtt.RttVar, 9);
        for (int i = 0; i < 200; i++)
        {
            rtt.OnSample(0.6);
        }

        Assert.Equal(0.6, rtt.Srtt, 6);
        Assert.True(rtt.RttVar < 1e-6, $"rttvar {rtt.RttVar}");

        // On that smooth long path the timeout is 1.5 × SRTT, after the NACK guard (1.25 × SRTT + 2 ms).
        Assert.Equal(0.9, rtt.RetransmitTimeout, 6);
        Assert.True(rtt.RetransmitTimeout > rtt.NackGuard);
    }

    [Fact]
    public void ASampleMovesSrttByAnEighth_AndRttVarByAQuarterOfTheDeviation()
    {
        var rtt = new RttEstimator();
        rtt.OnSample(0.1);
        rtt.OnSample(0.2);
        Assert.Equal((0.875 * 0.1) + (0.125 * 0.2), rtt.Srtt, 9);
        Assert.Equal((0.75 * 0.05) + (0.25 * 0.1), rtt.RttVar, 9);
        Assert.Equal(rtt.Srtt + (4 * rtt.RttVar), rtt.RetransmitTimeout, 9);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-0.001)]
    [InlineData(60)]
    [InlineData(3600)]
    public void ImpossibleSamples_AreIgnored(double seconds)
    {
        var rtt = new RttEstimator(0.05);
        rtt.OnSample(seconds);
        Assert.False(rtt.Measured);
        Assert.Equal(0.05, rtt.Srtt, 9);
    }

    [Fact]
    public void BeforeAnySample_TheTcpRttSeedsIt_ElseTenMilliseconds()
    {
        Assert.Equal(0.6, new RttEstimator(0.6).Srtt, 9);
        Assert.Equal(0.3, new RttEstimator(0.6).RttVar, 9);
        Assert.Equal(0.01, new RttEstimator().Srtt, 9);
        Assert.Equal(0.03, new RttEstimator(0.001).RetransmitTimeout, 9);
    }
}
