using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Haul.Jobs;

/// <summary>
/// Runs the node's jobs: cron and interval jobs when due; watch jobs when their folder has been quiet
/// for the debounce time after a change (FileSystemWatcher), and on a periodic rescan in case an event
/// was missed (watchers overflow; network file systems send none). Jobs are re-read every tick, so the
/// CLI can add, pause and remove them while the node runs; next runs are persisted, so they survive a
/// restart. A job never runs twice at once; a change during a run triggers one more run after it.
/// </summary>
internal sealed class JobScheduler : IAsyncDisposable
{
    private readonly IJobStore _store;
    private readonly Func<Job, string, CancellationToken, Task<(int ExitCode, string Message)>> _run;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, Task> _running = new();
    private readonly Dictionary<string, Watch> _watches = [];
    private readonly HashSet<string> _badSchedules = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public JobScheduler(IJobStore store, Func<Job, string, CancellationToken, Task<(int ExitCode, string Message)>> run, TimeProvider time, ILogger log)
    {
        (_store, _run, _time, _log) = (store, run, time, log);
    }

    public TimeSpan Debounce { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Rescan { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(500);

    public void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>Runs a job now, in the caller's flow (haul job run), recording it like any other run.</summary>
    public static async Task<(int ExitCode, string Message)> RunOnceAsync(IJobStore store, Job job, string trigger, Func<Job, string, CancellationToken, Task<(int ExitCode, string Message)>> run, TimeProvider time, CancellationToken ct)
    {
        long id = store.Started(job.Name, trigger, time.GetUtcNow());
        (int code, string msg) = ((int)ErrorCode.Cancelled, "interrupted");
        try
        {
            (code, msg) = await run(job, trigger, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            (code, msg) = (1, ex.Message);
        }
        finally
        {
            // Kept in history and shown by 'haul job list' in a terminal: one line, bounded (a path or
            // name in it came from whoever wrote the spec).
            msg = Security.Printable.Of(msg, 1024);
            store.Finished(id, job.Name, time.GetUtcNow(), code, msg);
            HaulMetrics.JobFinished(code);
        }

        return (code, msg);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        try
        {
            await Task.WhenAll(_running.Values).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var w in _watches.Values)
        {
            w.Dispose();
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Tick, _time);
        do
        {
            try
            {
                TickOnce();
            }
            catch (Exception ex) when (ex is HaulException or Microsoft.Data.Sqlite.SqliteException or IOException)
            {
                Log.JobSchedulerError(_log, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
    }

    private void TickOnce()
    {
        var now = _time.GetLocalNow();
        var jobs = _store.List();
        foreach (var gone in _watches.Keys.Where(k => !jobs.Any(j => j.Name == k && !j.Paused && j.WatchPath is not null)).ToList())
        {
            _watches[gone].Dispose();
            _watches.Remove(gone);
        }

        foreach (var job in jobs)
        {
            if (job.Paused)
            {
                continue;
            }

            if (job.Every is not null)
            {
                Schedule schedule;
                try
                {
                    schedule = Schedule.Parse(job.Every);
                }
                catch (HaulException ex)
                {
                    // A damaged or edited row: this job does not run, the others still do (said once).
                    if (_badSchedules.Add(job.Name + "\n" + job.Every))
                    {
                        Log.JobSchedulerError(_log, $"job '{job.Name}': {ex.Message}");
                    }

                    continue;
                }

                if (job.NextRun is null)
                {
                    _store.SetNextRun(job.Name, schedule.Next(now));
                }
                else if (job.NextRun <= now && !_running.ContainsKey(job.Name))
                {
                    _store.SetNextRun(job.Name, schedule.Next(now));
                    Launch(job, "schedule");
                }
            }

            if (job.WatchPath is not null)
            {
                if (!_watches.TryGetValue(job.Name, out var w))
                {
                    w = new Watch(job.WatchPath, now);
                    _watches[job.Name] = w;
                    Log.JobWatching(_log, job.Name, job.WatchPath);
                }

                if (_running.ContainsKey(job.Name))
                {
                    continue;
                }

                if (w.ChangedAt is not null && now - w.LastEvent >= Debounce)
                {
                    w.ChangedAt = null;
                    w.LastRun = now;
                    Launch(job, "change");
                }
                else if (now - w.LastRun >= Rescan)
                {
                    w.LastRun = now;
                    Launch(job, "rescan");
                }

            }
        }
    }

    private void Launch(Job job, string trigger)
    {
        Log.JobStarted(_log, job.Name, trigger);
        _running[job.Name] = Task.Run(async () =>
        {
            try
            {
                var (code, msg) = await RunOnceAsync(_store, job, trigger, _run, _time, _stop.Token).ConfigureAwait(false);
                Log.JobFinished(_log, job.Name, code, msg);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _running.TryRemove(job.Name, out _);
            }
        });
    }

    /// <summary>A recursive watcher; any event marks the folder changed and restarts the debounce.</summary>
    private sealed class Watch : IDisposable
    {
        private readonly FileSystemWatcher? _w;

        public Watch(string path, DateTimeOffset now)
        {
            LastRun = now;
            if (!Directory.Exists(path))
            {
                return; // the rescan still runs; the job's own run reports the missing folder
            }

            _w = new FileSystemWatcher(path) { IncludeSubdirectories = true, InternalBufferSize = 64 * 1024, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size };
            FileSystemEventHandler on = (_, _) => Mark();
            _w.Created += on;
            _w.Changed += on;
            _w.Deleted += on;
            _w.Renamed += (_, _) => Mark();
            _w.Error += (_, _) => Mark(); // overflow: assume something changed
            _w.EnableRaisingEvents = true;
        }

        public DateTimeOffset? ChangedAt { get; set; }

        public DateTimeOffset LastEvent { get; private set; }

        public DateTimeOffset LastRun { get; set; }

        public void Dispose() => _w?.Dispose();

        private void Mark()
        {
            var t = DateTimeOffset.Now;
            LastEvent = t;
            ChangedAt ??= t;
        }
    }
}
