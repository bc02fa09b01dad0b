using System.Diagnostics;

namespace Haul.Transfer;

/// <summary>
/// Ends a transfer whose peer stopped moving it: nothing new for <see cref="Limit"/> while the transfer
/// waits on that peer. A hostile peer (an organisation, authenticated, not harmless) could otherwise hold
/// a session, its buffers and its connection slot forever by going silent or by acknowledging nothing; a
/// link that is cut for longer than the limit ends the same way, and the same command resumes.
/// Progress is what <c>probe</c> returns changing (counters the session keeps anyway), or <see cref="Moved"/>;
/// while the session itself works (hashing, flushing) it <see cref="Pause"/>s the watch.
/// </summary>
internal sealed class StallWatch : IDisposable
{
    private readonly Timer? _timer;
    private readonly Action _onStall;
    private readonly Func<long>? _probe;
    private readonly long _limitTicks;
    private readonly Func<long> _clock;
    private long _last;
    private long _lastProbe = long.MinValue;
    private int _paused;
    private int _fired;

    /// <param name="limit">Zero or <see cref="Timeout.InfiniteTimeSpan"/>: never fires.</param>
    /// <param name="clock">Stopwatch ticks now; tests pass their own and call <see cref="Tick"/> themselves (no timer then).</param>
    public StallWatch(TimeSpan limit, Action onStall, Func<long>? probe = null, Func<long>? clock = null)
    {
        Limit = limit;
        _onStall = onStall;
        _probe = probe;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _last = _clock();
        if (limit > TimeSpan.Zero)
        {
            _limitTicks = (long)(limit.TotalSeconds * Stopwatch.Frequency);
            var period = TimeSpan.FromMilliseconds(Math.Clamp(limit.TotalMilliseconds / 4, 50, 1000));
            _timer = clock is null ? new Timer(_ => Tick(), null, period, period) : null;
        }
    }

    public TimeSpan Limit { get; }

    /// <summary>The limit ran out and the session was told to stop.</summary>
    public bool Fired => Volatile.Read(ref _fired) != 0;

    /// <summary>The limit in words, for messages: "300 s".</summary>
    public string LimitText => $"{Limit.TotalSeconds:0.#} s";

    public void Moved() => Volatile.Write(ref _last, _clock());

    /// <summary>The session works on its own (not waiting for the peer) until the result is disposed.</summary>
    public Resumer Pause()
    {
        Interlocked.Increment(ref _paused);
        return new Resumer(this);
    }

    public void Dispose() => _timer?.Dispose();

    /// <summary>One check (the timer's, or a test's with its own clock).</summary>
    internal void Tick()
    {
        if (_limitTicks == 0 || Fired)
        {
            return;
        }

        if (_probe is { } probe)
        {
            long v = probe();
            if (v != _lastProbe)
            {
                _lastProbe = v;
                Moved();
                return;
            }
        }

        if (Volatile.Read(ref _paused) > 0)
        {
            Moved();
            return;
        }

        if (_clock() - Volatile.Read(ref _last) > _limitTicks && Interlocked.Exchange(ref _fired, 1) == 0)
        {
            _timer?.Dispose();
            _onStall();
        }
    }

    internal readonly struct Resumer(StallWatch watch) : IDisposable
    {
        public void Dispose()
        {
            watch.Moved();
            Interlocked.Decrement(ref watch._paused);
        }
    }
}
