using Haul.Transfer.Congestion;

namespace Haul.Tests.Transfer.Congestion;

/// <summary>
/// A deterministic bottleneck on a virtual clock: capacity, one-way delay, a drop-tail queue limit,
/// random loss at ingress, capacity changes at set times, and any number of paced flows each driven
/// by a real <see cref="PacingController"/>. Receivers send feedback every millisecond of their own
/// time, as the real receiver does; feedback crosses an uncongested reverse path.
/// </summary>
internal sealed class LinkModel
{
    public const int PacketBytes = 1444;

    private readonly Random _rng;
    private readonly List<Flow> _flows = [];
    private readonly PriorityQueue<(Flow Flow, RateSample Sample), double> _feedback = new();
    private readonly List<(double At, double Capacity)> _changes = [];
    private double _linkFreeAt;

    public LinkModel(double capacityBytesPerSec, double rttSeconds, double loss, double queueBytes, int seed = 1)
    {
        Capacity = capacityBytesPerSec;
        OneWay = rttSeconds / 2;
        Loss = loss;
        QueueLimit = queueBytes;
        _rng = new Random(seed);
    }

    public double Capacity { get; private set; }

    public double OneWay { get; }

    public double Loss { get; }

    public double QueueLimit { get; }

    public IReadOnlyList<Flow> Flows => _flows;

    /// <summary>
    /// Receiver stalls, as a real host has them (scheduling, GC, a user-space emulator): now and then
    /// the receiver stops for up to this many seconds, then takes the backlog at once. Its timestamps
    /// then show delay that is not queueing and delivery bursts faster than the link.
    /// </summary>
    public double ReceiverStall { get; init; }

    public Flow AddFlow(RatePolicy policy, double startAt = 0)
    {
        var f = new Flow(new PacingController(policy), startAt);
        _flows.Add(f);
        return f;
    }

    /// <summary>Adds a flow that always sends at a fixed rate, like a competing TCP stream at its share (used for background tests).</summary>
    public Flow AddConstant(double bytesPerSec, double startAt = 0) => AddFlow(new RatePolicy { Mode = RateMode.Fixed, MaxBytesPerSec = bytesPerSec, MinBytesPerSec = 1 }, startAt);

    public void ChangeCapacityAt(double at, double capacity) => _changes.Add((at, capacity));

    public void Run(double until)
    {
        double now = 0;
        while (now < until)
        {
            // Next event: the earliest flow send or feedback delivery.
            Flow? next = null;
            foreach (var f in _flows)
            {
                if (next is null || f.NextSend < next.NextSend)
                {
                    next = f;
                }
            }

            double tSend = next!.NextSend;
            if (_feedback.TryPeek(out _, out double tFb) && tFb <= tSend)
            {
                var (flow, sample) = _feedback.Dequeue();
                now = tFb;
                flow.Controller.OnFeedback(sample with { NowMicros = Us(now), SentPackets = flow.Sent + 1 });
                continue;
            }

            now = tSend;
            ApplyChanges(now);
            Send(next, now);
        }
    }

    private void ApplyChanges(double now)
    {
        for (int i = _changes.Count - 1; i >= 0; i--)
        {
            if (_changes[i].At <= now)
            {
                Capacity = _changes[i].Capacity;
                _changes.RemoveAt(i);
            }
        }
    }

    private void Send(Flow f, double now)
    {
        f.NextSend = now + (PacketBytes / f.Controller.PacingRate);
        f.Sent++;
        ulong pn = f.Sent;
        double backlogBytes = Math.Max(0, _linkFreeAt - now) * Capacity;
        f.QueueDelaySum += Math.Max(0, _linkFreeAt - now);
        f.QueueSamples++;
        if (_rng.NextDouble() < Loss)
        {
            return;
        }

        if (backlogBytes + PacketBytes > QueueLimit)
        {
            f.Overflowed++;
            return;
        }

        _linkFreeAt = Math.Max(now, _linkFreeAt) + (PacketBytes / Capacity);
        double arrival = _linkFreeAt + OneWay;
        if (ReceiverStall > 0)
        {
            // About ten stalls a second at 100 Mbit/s, each up to ReceiverStall long.
            arrival = Math.Max(arrival, f.RxBusyUntil);
            if (_rng.NextDouble() < 0.0012)
            {
                f.RxBusyUntil = arrival + (_rng.NextDouble() * ReceiverStall);
            }
        }

        f.Delivered += PacketBytes;
        f.ReceivedPackets++;
        f.HighestPn = pn;
        if (f.MeasureFrom <= arrival && arrival < f.MeasureTo)
        {
            f.Measured += PacketBytes;
        }

        if (arrival - f.LastFeedback >= 0.001)
        {
            f.LastFeedback = arrival;
            double rtt = (arrival + OneWay) - now;
            var sample = new RateSample(0, rtt * 1e6, f.Delivered, Us(arrival), Us(arrival - now), f.HighestPn, f.ReceivedPackets);
            _feedback.Enqueue((f, sample), arrival + OneWay);
        }
    }

    private static long Us(double seconds) => (long)(seconds * 1e6);

    internal sealed class Flow(PacingController controller, double startAt)
    {
        public PacingController Controller { get; } = controller;

        public double NextSend { get; set; } = startAt;

        public ulong Sent { get; set; }

        /// <summary>Packets the full queue dropped (congestion loss, as opposed to the link's random loss).</summary>
        public ulong Overflowed { get; set; }

        public ulong HighestPn { get; set; }

        public ulong ReceivedPackets { get; set; }

        public long Delivered { get; set; }

        public double LastFeedback { get; set; } = double.NegativeInfinity;

        public double RxBusyUntil { get; set; }

        public double QueueDelaySum { get; set; }

        public long QueueSamples { get; set; }

        public double MeasureFrom { get; set; }

        public double MeasureTo { get; set; } = double.PositiveInfinity;

        public long Measured { get; set; }

        public double MeanQueueDelay => QueueSamples == 0 ? 0 : QueueDelaySum / QueueSamples;
    }
}
