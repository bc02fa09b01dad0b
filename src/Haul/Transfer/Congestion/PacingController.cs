namespace Haul.Transfer.Congestion;

/// <summary>
/// Rate-based congestion control for the data channel (docs/protocol.md, "Rate control").
/// The model is BBR's (Cardwell et al., 2016): the bottleneck bandwidth is the windowed maximum of
/// the delivery rate, the propagation delay the windowed minimum of the RTT; the sender paces at
/// gain × bandwidth, with a startup that multiplies the rate by 2.89 per round, a drain, and a probing
/// cycle of gains 1.25, 0.75, 1 × 6. Random loss does not enter the model: a lost packet is simply not
/// delivered. Congestion is read from one-way queueing delay (FASP- and LEDBAT-style): a queue
/// growing past a target drains it at once; loss is compensated only while the queue is short (so it is
/// random, not a full buffer). Background mode instead steers queueing delay to a 25 ms target, as LEDBAT
/// does, and yields to anything that builds a queue. Fixed mode holds the maximum rate.
/// Time is passed in, never read, so tests drive it on a virtual clock.
/// </summary>
internal sealed class PacingController
{
    private const double StartupGain = 2.885;
    private static readonly double[] Cycle = [1.25, 0.75, 1, 1, 1, 1, 1, 1];

    private readonly RatePolicy _policy;
    private readonly Queue<(long ReceiverUs, long Bytes)> _deliveries = new();
    private readonly List<(long StartUs, double Max)> _bwBuckets = [];
    private State _state = State.Startup;
    private double _btlBw;
    private double _lastRate;
    private double _rtPropUs = double.NaN;
    private long _rtPropAt;
    private long _baseOwd = long.MaxValue;
    private long _baseOwdAt;
    private double _queueUs;
    private long _roundStart;
    private double _roundBw;
    private int _flatRounds;
    private int _phase;
    private long _phaseStart;
    private double _loss;
    private ulong _lossPn;
    private ulong _lossRecv;
    private long _lossAt;
    private double _bgRate;
    private long _bgAt;

    public PacingController(RatePolicy policy)
    {
        _policy = policy;
        _btlBw = 0;
        PacingRate = policy.Mode == RateMode.Fixed ? policy.MaxBytesPerSec : Clamp(policy.InitialBytesPerSec * StartupGain);
        _bgRate = Clamp(policy.InitialBytesPerSec);
    }

    private enum State
    {
        Startup,
        Drain,
        ProbeBandwidth,
    }

    /// <summary>Wire bytes per second to pace at.</summary>
    public double PacingRate { get; private set; }

    public double BottleneckBytesPerSec => _btlBw;

    public double QueueDelayMicros => _queueUs;

    public double LossRate => _loss;

    public string StateName => _policy.Mode == RateMode.Fair ? _state.ToString() : _policy.Mode.ToString();

    public void OnFeedback(in RateSample s)
    {
        if (_policy.Mode == RateMode.Fixed)
        {
            PacingRate = _policy.MaxBytesPerSec;
            return;
        }

        UpdateRtt(s);
        UpdateQueue(s);
        UpdateLoss(s);
        UpdateBandwidth(s);
        if (_policy.Mode == RateMode.Background)
        {
            UpdateBackground(s.NowMicros);
            return;
        }

        double round = Math.Max(double.IsNaN(_rtPropUs) ? 10_000 : _rtPropUs, 10_000);
        double queueTarget = Math.Max(20_000, 0.5 * (double.IsNaN(_rtPropUs) ? 0 : _rtPropUs));
        switch (_state)
        {
            case State.Startup:
                if (s.NowMicros - _roundStart >= round)
                {
                    _flatRounds = _btlBw >= _roundBw * 1.25 ? 0 : _flatRounds + 1;
                    _roundBw = _btlBw;
                    _roundStart = s.NowMicros;
                }

                // Leave startup when bandwidth stops growing, or as soon as a queue shows we overshot.
                if ((_flatRounds >= 3 && _btlBw > 0) || (_queueUs > queueTarget && _btlBw > 0))
                {
                    _state = State.Drain;
                    _phaseStart = s.NowMicros;
                }

                PacingRate = Clamp(StartupGain * Math.Max(_btlBw, _policy.InitialBytesPerSec));
                break;
            case State.Drain:
                PacingRate = Clamp(_btlBw / StartupGain);
                if (_queueUs < queueTarget / 4 || s.NowMicros - _phaseStart > 4 * round)
                {
                    _state = State.ProbeBandwidth;
                    _phase = 2;
                    _phaseStart = s.NowMicros;
                }

                break;
            default:
                if (s.NowMicros - _phaseStart >= round)
                {
                    _phase = (_phase + 1) % Cycle.Length;
                    _phaseStart = s.NowMicros;
                }

                double gain = Cycle[_phase];
                double basis = _btlBw;
                if (_queueUs > queueTarget && gain >= 1)
                {
                    // A standing queue: the bottleneck delivers less than the max filter remembers
                    // (capacity fell, or others arrived). Drain from what is delivered now.
                    gain = 0.75;
                    basis = Math.Min(_btlBw, _lastRate);
                }

                double comp = _queueUs < queueTarget / 4 ? 1 / (1 - Math.Min(_loss, 0.25)) : 1;
                PacingRate = Clamp(gain * basis * comp);
                break;
        }
    }

    private void UpdateBackground(long now)
    {
        // LEDBAT (RFC 6817): move the rate in proportion to how far queueing delay is from the target.
        const double target = 25_000;
        double interval = Math.Max(double.IsNaN(_rtPropUs) ? 10_000 : _rtPropUs, 10_000);
        if (now - _bgAt < interval)
        {
            return;
        }

        _bgAt = now;
        // Linear in the delay error, as LEDBAT's window update is, so it settles instead of oscillating.
        double off = Math.Clamp((target - _queueUs) / target, -1, 1);
        _bgRate *= 1 + (0.1 * off);
        if (_btlBw > 0)
        {
            _bgRate = Math.Min(_bgRate, 1.25 * _btlBw / (1 - Math.Min(_loss, 0.25)));
        }

        _bgRate = Clamp(_bgRate);
        PacingRate = _bgRate;
    }

    private void UpdateRtt(in RateSample s)
    {
        if (double.IsNaN(s.RttMicros) || s.RttMicros <= 0)
        {
            return;
        }

        if (double.IsNaN(_rtPropUs) || s.RttMicros <= _rtPropUs || s.NowMicros - _rtPropAt > 10_000_000)
        {
            _rtPropUs = s.RttMicros;
            _rtPropAt = s.NowMicros;
        }
    }

    private void UpdateQueue(in RateSample s)
    {
        if (s.OwdMicros <= _baseOwd || s.NowMicros - _baseOwdAt > 10_000_000)
        {
            _baseOwd = s.OwdMicros;
            _baseOwdAt = s.NowMicros;
        }

        _queueUs = Math.Max(0, s.OwdMicros - _baseOwd);
    }

    private void UpdateLoss(in RateSample s)
    {
        double interval = Math.Max(double.IsNaN(_rtPropUs) ? 50_000 : 2 * _rtPropUs, 50_000);
        if (_lossAt == 0)
        {
            (_lossPn, _lossRecv, _lossAt) = (s.HighestPacket, s.ReceivedPackets, s.NowMicros);
            return;
        }

        if (s.NowMicros - _lossAt < interval || s.HighestPacket <= _lossPn)
        {
            return;
        }

        double sent = s.HighestPacket - _lossPn;
        double got = s.ReceivedPackets >= _lossRecv ? s.ReceivedPackets - _lossRecv : 0;
        double l = Math.Clamp(1 - (got / sent), 0, 1);
        _loss = (0.75 * _loss) + (0.25 * l);
        (_lossPn, _lossRecv, _lossAt) = (s.HighestPacket, s.ReceivedPackets, s.NowMicros);
    }

    private void UpdateBandwidth(in RateSample s)
    {
        _deliveries.Enqueue((s.ReceiverMicros, s.DeliveredBytes));
        double span = Math.Max(double.IsNaN(_rtPropUs) ? 10_000 : _rtPropUs, 10_000);
        // The sample spans at least one round trip (and 10 ms), so ACK batching does not inflate it.
        (long Us, long Bytes) oldest = _deliveries.Peek();
        while (_deliveries.Count > 2 && s.ReceiverMicros - _deliveries.ElementAt(1).ReceiverUs >= span)
        {
            _deliveries.Dequeue();
            oldest = _deliveries.Peek();
        }

        long dt = s.ReceiverMicros - oldest.Us;
        if (dt < span)
        {
            return;
        }

        double rate = (s.DeliveredBytes - oldest.Bytes) * 1e6 / dt;
        _lastRate = rate;
        // Windowed maximum over ten rounds (at least 1 s), in buckets of one round.
        double bucket = Math.Max(span, 50_000);
        if (_bwBuckets.Count == 0 || s.NowMicros - _bwBuckets[^1].StartUs >= bucket)
        {
            _bwBuckets.Add((s.NowMicros, rate));
        }
        else if (rate > _bwBuckets[^1].Max)
        {
            _bwBuckets[^1] = (_bwBuckets[^1].StartUs, rate);
        }

        while (_bwBuckets.Count > 1 && s.NowMicros - _bwBuckets[0].StartUs > Math.Max(10 * bucket, 1_000_000))
        {
            _bwBuckets.RemoveAt(0);
        }

        double max = 0;
        foreach (var b in _bwBuckets)
        {
            max = Math.Max(max, b.Max);
        }

        _btlBw = max;
    }

    private double Clamp(double rate) => Math.Clamp(rate, _policy.MinBytesPerSec, _policy.MaxBytesPerSec);
}
