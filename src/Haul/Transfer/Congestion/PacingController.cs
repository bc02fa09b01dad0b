namespace Haul.Transfer.Congestion;

/// <summary>
/// Rate-based congestion control for the data channel (docs/protocol.md, "Rate control").
/// Measurement is BBR's (Cardwell et al., 2016): the bottleneck bandwidth is the windowed maximum of the
/// delivery rate measured at the receiver, the propagation delay the windowed minimum of the RTT, and a
/// startup multiplies the rate by 2.89 per round, then drains. Congestion is read from one-way queueing
/// delay (FASP- and LEDBAT-style), never from loss alone: random loss is compensated while the queue is
/// short. In steady state the target rate moves by AIMD (additive increase scaled by √rate and
/// accelerating as BIC's does; a 15% cut when the queue passes its target) so competing Haul flows
/// converge to equal shares; a flow that has not seen an empty queue for 10 s halves for two rounds, as
/// BBR's ProbeRTT does, so a latecomer cannot mistake a standing queue for the base delay. Background
/// mode steers queueing delay to a 25 ms target, as LEDBAT does, and yields to anything that builds a
/// queue. Fixed mode holds the maximum rate. Time is passed in, never read, so tests drive it on a
/// virtual clock.
/// </summary>
internal sealed class PacingController
{
    private const double StartupGain = 2.885;
    private const double DecreaseFactor = 0.85;
    private const double IncreaseScale = 0.05;
    private const double IncreaseUnit = 1.25e6;
    private const long EmptyQueueMicros = 2_000;
    private const long QueueProbeInterval = 10_000_000;
    private const long QueueFilterMicros = 30_000;

    private readonly RatePolicy _policy;
    private readonly Queue<(long ReceiverUs, long Bytes)> _deliveries = new();
    private readonly Queue<(long ReceiverUs, long Bytes)> _slowDeliveries = new();
    private readonly LinkedList<(double Us, long At)> _queueWindow = new();
    private readonly List<(long StartUs, double Max)> _bwBuckets = [];
    private State _state = State.Startup;
    private double _btlBw;
    private double _lastRate;
    private double _rtPropUs = double.NaN;
    private long _rtPropAt;
    private readonly List<(long StartUs, long Min)> _owdBuckets = [];
    private long _emptySeenAt;
    private long _drainUntil;
    private double _queueUs;
    private long _roundStart;
    private double _roundBw;
    private int _flatRounds;
    private long _phaseStart;
    private double _loss;
    private double _randomLoss;
    private long _randomSamples;
    private bool _congestiveLoss;
    private ulong _lossPn;
    private ulong _lossRecv;
    private ulong _lossFromPn;
    private long _lossAt;
    private double _bgRate;
    private long _bgAt;
    private long _bgCutAt;
    private double _target;
    private long _decreasedAt;
    private long _quietSince;
    private bool _epochOpen;

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
        Steady,
    }

    /// <summary>Wire bytes per second to pace at.</summary>
    public double PacingRate { get; private set; }

    public double BottleneckBytesPerSec => _btlBw;

    public double QueueDelayMicros => _queueUs;

    /// <summary>Round-trip propagation time: the minimum RTT seen over the last 10 s (NaN before the first sample).</summary>
    public double RtPropSeconds => _rtPropUs / 1e6;

    public double LossRate => _loss;

    /// <summary>The path's own loss as estimated while the queue is short (what the rate compensates).</summary>
    public double RandomLoss => _randomLoss;

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
        double queueTarget = QueueTarget;
        switch (_state)
        {
            case State.Startup:
                if (s.NowMicros - _roundStart >= round)
                {
                    _flatRounds = _btlBw >= _roundBw * 1.25 ? 0 : _flatRounds + 1;
                    _roundBw = _btlBw;
                    _roundStart = s.NowMicros;
                }

                // Leave startup when bandwidth stops growing, or as soon as a queue shows we overshot. The
                // queue seen is a round trip old and grows 1.9 × the link rate per round by then, so the
                // threshold is a tenth of the RTT, not the steady-state target.
                if ((_flatRounds >= 3 && _btlBw > 0) || (_queueUs > StartupExitQueue && _btlBw > 0))
                {
                    _state = State.Drain;
                    _phaseStart = s.NowMicros;
                }

                PacingRate = Clamp(StartupGain * Math.Max(_btlBw, _policy.InitialBytesPerSec));
                break;
            case State.Drain:
                // Until the overshoot has drained: the queue seen when startup ended is a round trip old and
                // still growing, so drain for at least a round, then until the queue is a fraction of what
                // ended startup (leaving at a quarter of the steady-state target, 75 ms at 600 ms RTT, is
                // leaving before the 60 ms that ended startup has drained, and a buffer's worth of overshoot
                // then spilled as loss).
                PacingRate = Clamp(_btlBw / StartupGain);
                if ((s.NowMicros - _phaseStart >= round && _queueUs < Math.Min(queueTarget / 4, StartupExitQueue / 4)) || Drained(s) || s.NowMicros - _phaseStart > 4 * round)
                {
                    _state = State.Steady;
                    _phaseStart = s.NowMicros;
                    _target = Clamp(_btlBw);

                    // Growth starts from its base step: the time since the last sign of a queue counts from
                    // here, not from the start of the flow (which made the first steady rounds grow up to
                    // 2^7 times faster and overfill the buffer at 600 ms).
                    _quietSince = s.NowMicros;

                    // The next loss estimate covers steady state only: startup's overshoot losses,
                    // taken for the path's own, would be compensated and so sustain themselves.
                    // It starts with the packets sent from now on: leaving on what is in flight, the
                    // feedback at hand is a round trip and a full queue old, from amid the overflow.
                    (_lossPn, _lossRecv, _lossAt) = (s.HighestPacket, s.ReceivedPackets, s.NowMicros);
                    _lossFromPn = s.SentPackets;

                    // The queue the receiver still reports is the overshoot's, a round trip old: not a
                    // congestion episode of steady state. It counts as one already open, so it cuts only
                    // if still there after the episode's hold time.
                    _epochOpen = true;
                    _decreasedAt = s.NowMicros;
                }

                break;
            default:
                Steady(s.NowMicros, round, queueTarget);
                break;
        }
    }

    /// <summary>
    /// Steady state. The target delivery rate moves by AIMD, as TCP's window does, because that is what
    /// makes competing flows converge to equal shares (Chiu and Jain, 1989): a standing queue past the
    /// target cuts the rate by a fifth, at most once per two rounds (the time the cut takes to show), and
    /// each round without one adds a step. The step is absolute, not a fraction of the rate: it grows
    /// with the square root of the rate (so it scales from kbit/s to Gbit/s links, and a small flow gains
    /// relatively faster than a big one) and doubles every three rounds since the last cut or the last
    /// sign of a queue, as BIC/CUBIC's max probing does, so free capacity (a faster link, a competitor
    /// gone) is found in a few seconds at any RTT while two flows still add the same amounts.
    /// </summary>
    private void Steady(long now, double round, double queueTarget)
    {
        if ((_queueUs > queueTarget || _congestiveLoss) && (!_epochOpen || now - _decreasedAt >= Math.Max(8 * round, 500_000)))
        {
            // Cut as soon as the queue passes the target, not at the end of the round: the signal is
            // already a round trip old, and at 600 ms another half round at the old rate filled the
            // buffer. One cut per congestion episode, as TCP cuts once per loss window: the queue a cut
            // leaves takes several rounds to drain, and cutting again meanwhile would overshoot. A queue
            // still there long after the cut (others keep growing) opens a new episode. The cut is from
            // what the path delivered (a target grown past the bottleneck is not a rate the flow had),
            // measured over at least 100 ms: a 10 ms sample on a 1 ms path reads a scheduling hiccup as a
            // near-zero rate, and cutting from that collapsed the flow.
            double delivered = _lastRate > 0 ? Math.Max(_lastRate, 0.5 * _target) : _target;
            _target = Clamp(Decrease(round) * Math.Min(_target, delivered));
            _decreasedAt = now;
            _epochOpen = true;
            _quietSince = now;
        }

        if (now - _phaseStart >= round)
        {
            _phaseStart = now;
            EndOfRound(now, round, queueTarget);
        }

        double comp = 1 / (1 - Math.Min(_randomLoss, 0.25));
        if (now < _drainUntil)
        {
            PacingRate = Clamp(0.5 * _target);
            return;
        }

        if (now - _emptySeenAt > QueueProbeInterval)
        {
            // Ten seconds without once seeing an empty queue: either others keep a standing queue, or this
            // flow's base delay was measured on top of one (the latecomer problem LEDBAT has). Halve for
            // two rounds, as BBR's ProbeRTT does, so the queue drains and every flow sees the true base.
            _drainUntil = now + (long)Math.Max(2 * round, 200_000);
            _emptySeenAt = now;
            PacingRate = Clamp(0.5 * _target);
            return;
        }

        PacingRate = Clamp(_target * comp);
    }

    private void EndOfRound(long now, double round, double queueTarget)
    {
        bool settling = now - _decreasedAt < 2 * round;
        if (_queueUs < queueTarget / 2 && !_congestiveLoss)
        {
            _epochOpen = false;
        }

        if (_queueUs > queueTarget || _congestiveLoss)
        {
            _quietSince = now; // no growth while congested; Steady made the cut
        }
        else if (!settling)
        {
            if (_queueUs > queueTarget / 4)
            {
                _quietSince = now;
            }

            // Growth is counted in units of at least 100 ms, not in rounds: on a 1 ms path a round is
            // 10 ms, and a per-round step would add the link's rate every second (as CUBIC, growth
            // follows real time there). From 100 ms up a unit is a round, as before.
            double unit = Math.Max(round, 100_000);
            double quiet = Math.Min((now - _quietSince) / unit, 21);
            _target += IncreaseScale * Math.Sqrt(_target * IncreaseUnit) * Math.Pow(2, quiet / 3.0) * Math.Min(1, round / unit);
        }

        if (_btlBw > 0)
        {
            // Never ask for more than twice what the path has delivered lately, so losses cannot feed a
            // runaway; not tighter, or a rate that collapsed (a stall, a loss burst) regrows only 10%
            // per max-filter window.
            _target = Math.Min(_target, 2 * _btlBw);
        }

        _target = Clamp(_target);
    }

    /// <summary>
    /// The multiplicative decrease: 15%, as in the fairness tests at 50 and 200 ms. On paths much
    /// shorter than the 20 ms queue target the buffer holds many round trips of data, so after a cut
    /// the queue drains while the link stays full and a smaller cut (down to 7.5% at ≤ 10 ms rounds)
    /// suffices; flows still converge, more slowly.
    /// </summary>
    private static double Decrease(double roundUs) => 1 - ((1 - DecreaseFactor) * Math.Clamp(roundUs / 20_000, 0.5, 1));

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
        if (_congestiveLoss && now - _bgCutAt >= 2 * interval)
        {
            // LEDBAT halves on loss, at most once a round trip: a competitor that keeps little standing
            // queue (BBR) shows itself by overflowing the buffer rather than by delay.
            _bgRate *= 0.5;
            _bgCutAt = now;
            _congestiveLoss = false;
        }
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
        // Base delay: the minimum over two minutes in 10 s buckets, as LEDBAT keeps it, so a standing
        // queue never becomes the baseline while a route change still does, eventually.
        if (_owdBuckets.Count == 0 || s.NowMicros - _owdBuckets[^1].StartUs >= 10_000_000)
        {
            _owdBuckets.Add((s.NowMicros, s.OwdMicros));
            if (_owdBuckets.Count > 12)
            {
                _owdBuckets.RemoveAt(0);
            }
        }
        else if (s.OwdMicros < _owdBuckets[^1].Min)
        {
            _owdBuckets[^1] = (_owdBuckets[^1].StartUs, s.OwdMicros);
        }

        long baseOwd = long.MaxValue;
        foreach (var b in _owdBuckets)
        {
            baseOwd = Math.Min(baseOwd, b.Min);
        }

        double raw = Math.Max(0, s.OwdMicros - baseOwd);
        if (raw <= EmptyQueueMicros || _emptySeenAt == 0)
        {
            _emptySeenAt = s.NowMicros;
        }

        // The queue is the minimum over the last 30 ms (LEDBAT's current-delay filter): a receiver that
        // stalls for a few milliseconds (scheduling, a user-space hop) shows delay that is not queueing,
        // and on a short path that noise is as large as the signal. A standing queue outlasts the window.
        while (_queueWindow.Count > 0 && _queueWindow.Last!.Value.Us >= raw)
        {
            _queueWindow.RemoveLast();
        }

        _queueWindow.AddLast((raw, s.NowMicros));
        while (s.NowMicros - _queueWindow.First!.Value.At > QueueFilterMicros)
        {
            _queueWindow.RemoveFirst();
        }

        _queueUs = _queueWindow.First!.Value.Us;
    }

    /// <summary>
    /// The overshoot is gone from the bottleneck now, not a round trip ago: what is in flight (sent
    /// after the highest packet the receiver has reported, lost or not) is no more than one
    /// bandwidth-delay product, as BBR leaves its drain. While the bottleneck has a queue it delivers
    /// at its full rate, so data in flight is the queue plus a BDP whatever the sender's own rate;
    /// the queueing delay the receiver reports is a round trip and the queue itself old, and waiting
    /// for it to read empty left the link idle at a third of its rate for most of a round (600 ms).
    /// </summary>
    private bool Drained(in RateSample s)
    {
        if (s.SentPackets <= s.HighestPacket || s.ReceivedPackets == 0 || _btlBw <= 0 || double.IsNaN(_rtPropUs))
        {
            return false;
        }

        double inflight = (s.SentPackets - s.HighestPacket - 1) * ((double)s.DeliveredBytes / s.ReceivedPackets);
        return inflight <= _btlBw * _rtPropUs / 1e6;
    }

    /// <summary>Queueing delay that ends startup: a tenth of the RTT, at least 20 ms.</summary>
    private double StartupExitQueue => Math.Max(20_000, double.IsNaN(_rtPropUs) ? 0 : 0.1 * _rtPropUs);

    /// <summary>Queueing delay above which the bottleneck counts as congested: max(20 ms, RTT/2).</summary>
    private double QueueTarget => Math.Max(20_000, 0.5 * (double.IsNaN(_rtPropUs) ? 0 : _rtPropUs));

    private void UpdateLoss(in RateSample s)
    {
        double interval = Math.Max(double.IsNaN(_rtPropUs) ? 50_000 : 2 * _rtPropUs, 50_000);
        if (_lossAt == 0 || s.HighestPacket < _lossFromPn)
        {
            // (Until the first packet sent after startup reaches the receiver, the window keeps moving.)
            (_lossPn, _lossRecv, _lossAt) = (s.HighestPacket, s.ReceivedPackets, s.NowMicros);
            return;
        }

        // At least 200 packets per estimate: at a low rate one random loss in a handful of packets
        // would read as a burst, be taken for congestion, and cut the rate further (a trap seen at
        // 1 ms RTT with 1% loss, where the flow fell to 4 Mbit/s and stayed there).
        if (s.NowMicros - _lossAt < interval || s.HighestPacket < _lossPn + 200)
        {
            return;
        }

        double sent = s.HighestPacket - _lossPn;
        double got = s.ReceivedPackets >= _lossRecv ? s.ReceivedPackets - _lossRecv : 0;
        double l = Math.Clamp(1 - (got / sent), 0, 1);
        _loss = (0.75 * _loss) + (0.25 * l);

        // Loss seen while the queue is short is the path's own (random) loss; loss well above it while
        // a queue stands is a buffer overflowing, i.e. congestion, even where the buffer is smaller
        // than the queueing-delay target and the delay signal can never fire.
        if (_policy.Mode == RateMode.Fair && (_state == State.Startup || _state == State.Drain))
        {
            return; // overshoot losses of the startup are not the path's own
        }

        if (_queueUs < QueueTarget / 4)
        {
            _randomLoss = _randomSamples++ == 0 ? l : (0.8 * _randomLoss) + (0.2 * l);
            _congestiveLoss = false;
        }
        else
        {
            // Above half the target, clear of the few milliseconds of jitter a real path shows.
            _congestiveLoss = _queueUs > QueueTarget / 2 && l > _randomLoss + Math.Max(0.01, 0.3 * _randomLoss);
        }
        (_lossPn, _lossRecv, _lossAt) = (s.HighestPacket, s.ReceivedPackets, s.NowMicros);
    }

    private void UpdateBandwidth(in RateSample s)
    {
        _deliveries.Enqueue((s.ReceiverMicros, s.DeliveredBytes));
        double span = Math.Max(double.IsNaN(_rtPropUs) ? 10_000 : _rtPropUs, 10_000);
        _lastRate = SlowRate(s, Math.Max(span, 100_000)) ?? _lastRate;
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

    /// <summary>Delivery rate over at least <paramref name="span"/> microseconds of receiver time.</summary>
    private double? SlowRate(in RateSample s, double span)
    {
        _slowDeliveries.Enqueue((s.ReceiverMicros, s.DeliveredBytes));
        while (_slowDeliveries.Count > 2 && s.ReceiverMicros - _slowDeliveries.ElementAt(1).ReceiverUs >= span)
        {
            _slowDeliveries.Dequeue();
        }

        var oldest = _slowDeliveries.Peek();
        long dt = s.ReceiverMicros - oldest.ReceiverUs;
        return dt < span ? null : (s.DeliveredBytes - oldest.Bytes) * 1e6 / dt;
    }

    private double Clamp(double rate) => Math.Clamp(rate, _policy.MinBytesPerSec, _policy.MaxBytesPerSec);
}
