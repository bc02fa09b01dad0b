namespace Haul.Transfer;

/// <summary>
/// A basic loss-driven pacing-rate controller for LANs: grow the rate by a quarter each interval while
/// measured loss stays under 6%, cut it towards the measured delivery rate when loss passes 10%. Loss
/// below the threshold (a lossy but uncongested link) does not slow it. Loss is measured exactly from
/// packet numbers: the receiver reports the highest packet number and how many it received.
/// </summary>
internal sealed class RateController
{
    private readonly double _min;
    private readonly double _max;
    private ulong _basePn;
    private ulong _baseRecv;
    private long _baseTicks;
    private bool _started;

    public RateController(double initialBytesPerSec, double minBytesPerSec, double maxBytesPerSec)
    {
        _min = minBytesPerSec;
        _max = maxBytesPerSec;
        Rate = Math.Clamp(initialBytesPerSec, minBytesPerSec, maxBytesPerSec);
    }

    /// <summary>Pacing rate in wire bytes per second.</summary>
    public double Rate { get; private set; }

    public double LastLoss { get; private set; }

    public void OnFeedback(long nowTicks, long frequency, ulong highestPn, ulong received, double srttSeconds, int packetBytes)
    {
        if (!_started)
        {
            _started = true;
            (_basePn, _baseRecv, _baseTicks) = (highestPn, received, nowTicks);
            return;
        }

        double elapsed = (nowTicks - _baseTicks) / (double)frequency;
        if (elapsed < Math.Max(0.02, 2 * srttSeconds) || highestPn <= _basePn)
        {
            return;
        }

        double sent = highestPn - _basePn;
        double got = received >= _baseRecv ? received - _baseRecv : 0;
        double loss = Math.Clamp(1 - (got / sent), 0, 1);
        LastLoss = loss;
        if (loss > 0.10)
        {
            double delivered = got * packetBytes / elapsed;
            Rate = Math.Max(_min, Math.Min(Rate * 0.8, delivered));
        }
        else if (loss < 0.06)
        {
            Rate = Math.Min(_max, Rate * 1.25);
        }

        (_basePn, _baseRecv, _baseTicks) = (highestPn, received, nowTicks);
    }
}
