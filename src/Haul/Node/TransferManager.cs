using System.Threading.Channels;
using Haul.Operations;
using Haul.Sync;
using Haul.Transfer;
using Microsoft.Extensions.Logging;

namespace Haul.Node;

/// <summary>A snapshot of one transfer the node runs for a client (REST API, MCP, dashboard).</summary>
internal sealed record TransferView(
    string Id,
    string Kind,
    string Peer,
    string Path,
    string? Destination,
    string State,
    string Phase,
    long BytesDone,
    long BytesTotal,
    int FilesDone,
    int FilesTotal,
    double RateBytesPerSec,
    double Percent,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string? Mode,
    string? ManifestHash,
    long ChunkBytesSent,
    long ReusedBytes,
    int? ErrorCode,
    string? Error,
    string? Fix,
    string? Summary = null,
    double? EtaSeconds = null);

/// <summary>
/// Runs transfers inside the node for its clients: start (with idempotency keys, so a retried POST
/// does not start two), list, get, cancel, pause (the run stops; the receiver's journal keeps every
/// verified chunk) and resume (the same request again: only what is missing moves), and a stream of
/// snapshots for live progress. Transfers are kept in memory for the life of the node process.
/// </summary>
internal sealed class TransferManager : IAsyncDisposable
{
    private readonly HaulNode _node;
    private readonly ITreeIndex _index;
    private readonly ILogger _log;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _transfers = [];
    private readonly Dictionary<string, (string Id, TransferRequest Request)> _idempotency = [];
    private readonly List<Channel<TransferView>> _subscribers = [];
    private readonly CancellationTokenSource _stop = new();
    private long _bytesMoved;
    private int _completed;
    private int _failed;

    public TransferManager(HaulNode node, ITreeIndex index, ILogger log)
    {
        _node = node;
        _index = index;
        _log = log;
    }

    /// <summary>Payload bytes moved by finished transfers (for metrics).</summary>
    public long BytesMoved => Interlocked.Read(ref _bytesMoved);

    public int Completed => Volatile.Read(ref _completed);

    public int Failed => Volatile.Read(ref _failed);

    public int Active
    {
        get
        {
            lock (_lock)
            {
                return _transfers.Values.Count(e => e.State is TransferState.Queued or TransferState.Running);
            }
        }
    }

    /// <summary>
    /// Checks the request and starts it. With an idempotency key already used for the same request,
    /// returns that transfer (Created = false); for a different request, an error.
    /// </summary>
    public (TransferView View, bool Created) Start(TransferRequest request, string? idempotencyKey)
    {
        Validate(request);
        Entry entry;
        lock (_lock)
        {
            if (idempotencyKey is not null && _idempotency.TryGetValue(idempotencyKey, out var seen))
            {
                if (seen.Request.ToJson() != request.ToJson())
                {
                    throw new HaulException(ErrorCode.Usage, "this Idempotency-Key was already used for a different transfer", "use a new key for a new transfer");
                }

                return (_transfers[seen.Id].View(), false);
            }

            string id = "t-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
            entry = new Entry(id, request, DateTimeOffset.UtcNow);
            _transfers[id] = entry;
            if (idempotencyKey is not null)
            {
                _idempotency[idempotencyKey] = (id, request);
            }
        }

        Run(entry);
        return (entry.View(), true);
    }

    public IReadOnlyList<TransferView> List()
    {
        lock (_lock)
        {
            return [.. _transfers.Values.OrderByDescending(e => e.CreatedAt).Select(e => e.View())];
        }
    }

    public TransferView? Get(string id)
    {
        lock (_lock)
        {
            return _transfers.TryGetValue(id, out var e) ? e.View() : null;
        }
    }

    public Task<TransferView> CancelAsync(string id) => StopAsync(id, TransferState.Cancelled);

    /// <summary>Waits until the transfer stops running (done, failed, paused or cancelled) and returns how it ended; cancelling the wait cancels the transfer.</summary>
    public async Task<TransferView> WaitAsync(string id, CancellationToken ct)
    {
        var e = Find(id);
        try
        {
            await e.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await CancelAsync(id).ConfigureAwait(false);
            throw;
        }

        return e.View();
    }

    public Task<TransferView> PauseAsync(string id) => StopAsync(id, TransferState.Paused);

    public TransferView Resume(string id)
    {
        var e = Find(id);
        lock (e)
        {
            if (e.State is not (TransferState.Paused or TransferState.Failed))
            {
                throw new HaulException(ErrorCode.Usage, $"transfer {id} is {e.State.Wire()}; only a paused or failed transfer resumes", "start a new transfer instead");
            }
        }

        Run(e);
        return e.View();
    }

    /// <summary>Every change of every transfer, as snapshots (progress at most about 4 a second each), until cancelled.</summary>
    public async IAsyncEnumerable<TransferView> WatchAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var ch = Channel.CreateBounded<TransferView>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _subscribers.Add(ch);
        }

        try
        {
            await foreach (var v in ch.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                yield return v;
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(ch);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_lock)
        {
            running = [.. _transfers.Values.Select(e => e.Task)];
        }

        try
        {
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or HaulException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>
    /// What every request must hold before it runs, whatever its source (an API body, a job's stored
    /// spec, which may be damaged or edited): no NUL in a path or name (the OS cannot take one), and
    /// filters with no null lists or patterns.
    /// </summary>
    public static void CheckShape(TransferRequest r)
    {
        string?[] texts = [r.Peer, r.Path, r.Destination, r.Sync?.Source, r.Sync?.Dest, r.Sync?.BackupDir, r.Bisync?.Path1, r.Bisync?.Path2];
        if (r.Peer is null || r.Path is null || texts.Any(t => t is not null && t.Contains('\0', StringComparison.Ordinal)))
        {
            throw new HaulException(ErrorCode.Usage, "a path or peer in the transfer is missing or contains a NUL character", "give paths and names as plain text");
        }

        foreach (var f in new[] { r.Sync is null ? FilterSpec.None : r.Sync.Filter, r.Bisync is null ? FilterSpec.None : r.Bisync.Filter })
        {
            if (f is null || f.Lists.Any(l => l is null || l.Any(p => p is null || p.Contains('\0', StringComparison.Ordinal))))
            {
                throw new HaulException(ErrorCode.Usage, "a filter list in the transfer is missing or has a null or NUL pattern", "give each pattern as a string");
            }
        }
    }

    private void Validate(TransferRequest r)
    {
        CheckShape(r);
        if (r.Kind.BetweenEnds())
        {
            if (string.IsNullOrWhiteSpace(r.Path) || string.IsNullOrWhiteSpace(r.Destination))
            {
                throw new HaulException(ErrorCode.Usage, $"a {r.Kind.Wire()} needs a source (\"path\") and a \"destination\"", "name both ends as 'haul sync' takes them: /local/path, peer:folder/path or s3://bucket/prefix");
            }

            r.Sync?.CheckFlags();
            return;
        }

        if (string.IsNullOrWhiteSpace(r.Peer) || string.IsNullOrWhiteSpace(r.Path))
        {
            throw new HaulException(ErrorCode.Usage, "a transfer needs a peer and a path", "set \"peer\" and \"path\"");
        }

        _node.ResolvePeer(r.Peer);
        if (r.Kind == TransferKind.Send && !File.Exists(r.Path) && !Directory.Exists(r.Path))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"no such file or folder: {Security.Printable.Of(r.Path, 200)}", "give an absolute path on the node's machine");
        }

        if (r.Kind == TransferKind.Pull)
        {
            if (string.IsNullOrWhiteSpace(r.Destination) || !System.IO.Path.IsPathFullyQualified(r.Destination))
            {
                throw new HaulException(ErrorCode.Usage, "a pull needs an absolute destination folder", "set \"destination\" to e.g. /data/incoming");
            }

            if (File.Exists(r.Destination))
            {
                throw new HaulException(ErrorCode.Usage, $"destination {Security.Printable.Of(r.Destination, 200)} is a file; a pull copies into a folder", "set \"destination\" to a folder (it is created if missing)");
            }
        }
    }

    private Entry Find(string id)
    {
        lock (_lock)
        {
            return _transfers.TryGetValue(id, out var e) ? e : throw new HaulException(ErrorCode.PathNotFound, $"no transfer {id}", "list transfers with GET /api/v1/transfers or 'haul transfers'");
        }
    }

    /// <summary>
    /// Stops a run and waits (up to 10 s) for it to wind down, so the answer carries the state the
    /// transfer ended in ("paused", "cancelled", or "done" when it finished first), not "running".
    /// </summary>
    private async Task<TransferView> StopAsync(string id, TransferState state)
    {
        var e = Find(id);
        CancellationTokenSource? cts;
        Task run;
        lock (e)
        {
            if (e.State is not (TransferState.Queued or TransferState.Running) && !(state == TransferState.Cancelled && e.State == TransferState.Paused))
            {
                throw new HaulException(ErrorCode.Usage, $"transfer {id} is already {e.State.Wire()}", "only a queued or running transfer can be stopped");
            }

            e.StopAs = state;
            cts = e.Cts;
            run = e.Task;
            if (e.State == TransferState.Paused)
            {
                e.State = state;
                e.FinishedAt = DateTimeOffset.UtcNow;
            }
        }

        try
        {
            cts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended between the check and the cancel: its final state stands.
        }

        Publish(e);
        try
        {
            await run.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || run.IsCompleted)
        {
            // Still winding down, or ended with a failure it recorded itself: answer with the state now.
        }

        return e.View();
    }

    private void Run(Entry e)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        lock (e)
        {
            e.Cts = cts;
            e.StopAs = null;
            e.State = TransferState.Running;
            e.Phase = TransferPhase.Connect;
            e.Error = null;
            e.Summary = null;
            e.FinishedAt = null;
        }

        Publish(e);
        e.Task = Task.Run(async () =>
        {
            long lastPublish = 0;
            void OnProgress(TransferProgress p)
            {
                lock (e)
                {
                    e.Progress = p;
                    e.Phase = p.Phase;
                    e.Mode = p.Mode;
                }

                long now = Environment.TickCount64;
                if (now - Interlocked.Read(ref lastPublish) >= 250)
                {
                    Interlocked.Exchange(ref lastPublish, now);
                    Publish(e);
                }
            }

            try
            {
                var outcome = await TransferRunners.RunAsync(new SyncContext(_node.Home, _index, _node), e.Request, OnProgress, cts.Token).ConfigureAwait(false);
                lock (e)
                {
                    e.Result = outcome.Send;
                    e.Summary = outcome.Summary;
                    e.State = TransferState.Done;
                }

                Interlocked.Add(ref _bytesMoved, outcome.Send?.ChunkBytesSent ?? e.Progress?.BytesDone ?? 0);
                Interlocked.Increment(ref _completed);
            }
            catch (Exception ex) when (ex is OperationCanceledException || cts.IsCancellationRequested)
            {
                lock (e)
                {
                    e.State = e.StopAs ?? TransferState.Cancelled;
                }
            }
            catch (HaulException ex)
            {
                lock (e)
                {
                    e.State = TransferState.Failed;
                    e.Error = ex;
                }

                Interlocked.Increment(ref _failed);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                lock (e)
                {
                    e.State = TransferState.Failed;
                    e.Error = new HaulException(ErrorCode.Internal, ex.Message, "check the node's log");
                }

                Interlocked.Increment(ref _failed);
            }
            catch (Exception ex)
            {
                // Any other failure (a bug, a request the checks let through) still ends the transfer:
                // left alone it faulted the task unobserved and the transfer stayed "running" for ever.
                Log.TransferCrashed(_log, ex, e.Id, e.Request.Kind.Wire());
                lock (e)
                {
                    e.State = TransferState.Failed;
                    e.Error = new HaulException(ErrorCode.Internal, $"the transfer failed unexpectedly ({ex.GetType().Name})", "check the node's log, and report it");
                }

                Interlocked.Increment(ref _failed);
            }
            finally
            {
                lock (e)
                {
                    e.FinishedAt = e.State == TransferState.Paused ? null : DateTimeOffset.UtcNow;
                }

                Log.TransferEnded(_log, e.Id, e.Request.Kind.Wire(), e.Request.Peer, e.State.Wire());
                Publish(e);
                cts.Dispose();
            }
        });
    }

    private void Publish(Entry e)
    {
        var v = e.View();
        lock (_lock)
        {
            foreach (var s in _subscribers)
            {
                s.Writer.TryWrite(v);
            }
        }
    }

    private sealed class Entry(string id, TransferRequest request, DateTimeOffset createdAt)
    {
        public string Id { get; } = id;

        public TransferRequest Request { get; } = request;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public TransferState State { get; set; } = TransferState.Queued;

        public TransferPhase Phase { get; set; } = TransferPhase.Queued;

        public TransferState? StopAs { get; set; }

        public string? Mode { get; set; }

        public TransferProgress? Progress { get; set; }

        public SendResult? Result { get; set; }

        public string? Summary { get; set; }

        public HaulException? Error { get; set; }

        public DateTimeOffset? FinishedAt { get; set; }

        public CancellationTokenSource? Cts { get; set; }

        public Task Task { get; set; } = Task.CompletedTask;

        public TransferView View()
        {
            lock (this)
            {
                var p = Progress;
                long total = Result?.Bytes ?? p?.BytesTotal ?? 0;
                long done = State == TransferState.Done ? total : p?.BytesDone ?? 0;
                int filesTotal = Result?.Files ?? p?.FilesTotal ?? 0;
                int filesDone = State == TransferState.Done ? filesTotal : p?.FilesDone ?? 0;
                double pct = State == TransferState.Done ? 100 : total > 0 && p?.Phase != TransferPhase.Scan ? Math.Round(100.0 * done / total, 1) : 0;
                return new TransferView(
                    Id, Request.Kind.Wire(), Request.Peer, Request.Path, Request.Destination, State.Wire(), State == TransferState.Done ? "done" : Phase.Wire(),
                    done, total, filesDone, filesTotal, State == TransferState.Running ? p?.RateBytesPerSec ?? 0 : 0, pct, CreatedAt, FinishedAt,
                    Result?.Mode ?? Mode, Result?.Receipt.ManifestHash.ToHex(), Result?.ChunkBytesSent ?? 0, Result?.ReusedBytes ?? 0,
                    Error is null ? null : (int)Error.Code, Error?.Message, Error?.Hint, Summary,
                    State == TransferState.Running && p is { RateBytesPerSec: > 0 } && total > done && p.Phase != TransferPhase.Scan ? Math.Round((total - done) / p.RateBytesPerSec, 1) : null);
            }
        }
    }
}
