namespace Haul.Sync;

/// <summary>A token bucket shared by every transfer of a run; the rate follows the schedule as time passes.</summary>
internal sealed class Throttle(BandwidthSchedule schedule, TimeProvider time)
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last = time.GetTimestamp();

    public async ValueTask TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_lock)
        {
            double rate = schedule.RateAt(time.GetLocalNow().DateTime);
            long now = time.GetTimestamp();
            if (double.IsPositiveInfinity(rate))
            {
                _tokens = 0;
                _last = now;
                return;
            }

            // At most a quarter-second burst.
            _tokens = Math.Min(_tokens + (time.GetElapsedTime(_last, now).TotalSeconds * rate), rate / 4);
            _last = now;
            _tokens -= bytes;
            wait = _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / rate);
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
