using System.Diagnostics;
using Haul.Content;
using Haul.Protocol;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>
/// The data plane of one send, and the one place that decides how chunks travel: sealed UDP packets where
/// the session has a <see cref="UdpLink"/>, or CHUNK_DATA frames on the TLS connection (TCP). If the
/// receiver never answers the UDP data within the probe timeout, UDP is blocked on the way: this plane
/// stops it and switches to TCP, once. The control loop hands it the receiver's CHUNK_DONE and CHUNK_BAD,
/// which go to whichever plane is current.
/// </summary>
internal sealed class FallbackDataPlane : IDisposable
{
    private readonly ControlChannel _ctl;
    private readonly NegotiatedSession _session;
    private readonly UdpLink? _link;
    private readonly Manifest _manifest;
    private readonly ChunkSource _source;
    private readonly SendProgress _progress;
    private readonly TimeSpan _probeTimeout;
    private readonly ILogger _log;
    private readonly UdpSender? _udp;
    private IDataPlane? _current;
    private Task _run;
    private int[] _needed;

    /// <param name="link">The UDP resources (borrowed from the negotiation; the socket is closed when this plane stops with it); null: TCP only.</param>
    public FallbackDataPlane(ControlChannel ctl, NegotiatedSession session, UdpLink? link, Manifest manifest, ChunkSource source, SendProgress progress, SendOptions options, MemoryBudget.Account budget, ILogger log)
    {
        _ctl = ctl;
        _session = session;
        _link = link;
        _manifest = manifest;
        _source = source;
        _progress = progress;
        _probeTimeout = options.ProbeTimeout;
        _log = log;
        _needed = session.Need?.Chunks ?? [];

        // The TCP connection's RTT seeds the data plane's, so its first retransmission timeout on a long
        // path is not a LAN default. After an early accept the data starts speculatively with every chunk,
        // at most SpeculativeBytes of it, and the need list that follows narrows it.
        int[] planned = session.EarlyStart ? [.. Enumerable.Range(0, manifest.Chunks.Length)] : _needed;
        _udp = link is null ? null : link.Adopted?.Plane
            ?? new UdpSender(link.Socket, link.Seal, link.Open, session.SessionId, manifest, source, planned, new Congestion.PacingController(options.Rate), session.Gso, session.PieceSize, ctl.TcpRttSeconds(), speculative: session.EarlyStart) { Budget = budget };
        _current = _udp is not null ? _udp : session.Need is null ? null : new TcpSender(ctl, manifest, source, _needed);
        _run = link?.Adopted?.Run ?? Task.CompletedTask;
        progress.Mode = _udp is not null ? (session.Gso ? "udp+gso" : "udp") : "tcp";
    }

    /// <summary>A counter that grows while the data moves (the stall watch reads it).</summary>
    public long Progress => (Volatile.Read(ref _current)?.Progress ?? 0) + (_udp?.Progress ?? 0);

    /// <summary>After an early start: how long before the need list the receiver first acknowledged UDP data.</summary>
    public TimeSpan FeedbackBeforeNeedList { get; private set; }

    /// <summary>Set when the data moved to TCP: the line the user is shown.</summary>
    public string? Notice { get; private set; }

    public long WireBytes => _session.WastedBytes + Volatile.Read(ref _current) switch { UdpSender u => u.WireBytes, TcpSender t => t.WireBytes, _ => 0 };

    public long PacketsSent => (Volatile.Read(ref _current) as UdpSender)?.PacketsSent ?? 0;

    public long Retransmitted => (Volatile.Read(ref _current) as UdpSender)?.Retransmitted ?? 0;

    public double SrttMs => (Volatile.Read(ref _current) as UdpSender)?.SrttMs ?? 0;

    /// <summary>
    /// Sends START and starts the data at once, without a probe round trip first (the receiver keeps
    /// packets that overtake START): UDP speculatively after an early accept, TCP once the need list is in.
    /// An adopted proposal's data is already flowing.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _ctl.SendAsync(FrameType.Start, _session.EncodeStart(), cancellationToken).ConfigureAwait(false);
        DebugTrace.Mark("send: started");
        if (_udp is not null)
        {
            if (!_session.Adopted)
            {
                _run = _udp.RunAsync(_link!.Stop.Token);
            }
        }
        else if (_current is not null)
        {
            _run = _current.RunAsync(cancellationToken);
        }
    }

    /// <summary>The need list that follows an early start: the speculative data narrows to it.</summary>
    public void Narrow(NeedList need, CancellationToken cancellationToken)
    {
        if (_udp?.FirstFeedbackAt is > 0 and var heardAt)
        {
            FeedbackBeforeNeedList = Stopwatch.GetElapsedTime(heardAt);
        }

        _needed = need.Chunks;
        if (_udp is not null)
        {
            _udp.Restrict(need.Chunks);
        }
        else if (_current is null)
        {
            var tcp = new TcpSender(_ctl, _manifest, _source, need.Chunks);
            Volatile.Write(ref _current, tcp);
            _run = tcp.RunAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Runs the data until every needed chunk is confirmed, or <paramref name="control"/> (the loop
    /// reading the receiver's frames) ends first; switches to TCP if UDP is never answered.
    /// </summary>
    /// <param name="report">Where the switch is announced (the send's progress callback), if anywhere.</param>
    public async Task RunAsync(Task control, Action<TransferProgress>? report, CancellationToken cancellationToken)
    {
        // The wait for acknowledgements starts once the receiver has its plan (after an early accept the
        // manifest may still have been crossing a lossy path when the data started).
        if (_udp is not null && !_run.IsCompleted
            && await ProbeAsync(_udp.FirstFeedback, _run, control, _probeTimeout, TimeProvider.System, cancellationToken).ConfigureAwait(false) == ProbeOutcome.Silent)
        {
            await FallBackAsync(report, cancellationToken).ConfigureAwait(false);
        }

        DebugTrace.Mark("send: data flowing");

        // Whichever ends first: the data plane (all chunks done), the control loop (receipt or error).
        var first = await Task.WhenAny(_run, control).ConfigureAwait(false);
        await first.ConfigureAwait(false);
    }

    public void OnChunksDone(int[] chunks) => Volatile.Read(ref _current)?.OnChunksDone(chunks);

    public void OnChunkBad(int chunk) => Volatile.Read(ref _current)?.OnChunkBad(chunk);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the receiver's first feedback on the UDP data, the UDP
    /// run to end or the control loop to end, and says which came first; <see cref="ProbeOutcome.Silent"/>
    /// only if none did. Throws if <paramref name="cancellationToken"/> ends the wait.
    /// </summary>
    internal static async Task<ProbeOutcome> ProbeAsync(Task feedback, Task run, Task control, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        // Two sources of cancellation: the send's token, and this wait ending (the timer is dropped).
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(timeout, time, wait.Token);
        await Task.WhenAny(feedback, run, control, timer).ConfigureAwait(false);
        await wait.CancelAsync().ConfigureAwait(false);
        if (feedback.IsCompleted)
        {
            return ProbeOutcome.Answered;
        }

        if (run.IsCompleted)
        {
            return ProbeOutcome.RunEnded;
        }

        if (control.IsCompleted)
        {
            return ProbeOutcome.ControlEnded;
        }

        cancellationToken.ThrowIfCancellationRequested();
        return ProbeOutcome.Silent;
    }

    /// <summary>Stops the UDP data and its socket, and sends every needed chunk again on the TLS connection (the receiver drops any that did land).</summary>
    private async Task FallBackAsync(Action<TransferProgress>? report, CancellationToken cancellationToken)
    {
        await _link!.Stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _udp!.Dispose();
        _link.Socket.Dispose();
        Notice = $"UDP to {_session.Target} is blocked or lost: falling back to the TLS connection (TCP)";
        Log.Notice(_log, Notice);
        report?.Invoke(_progress.Snapshot(TransferPhase.Notice, 0, Notice) with { Mode = "tcp" });
        var tcp = new TcpSender(_ctl, _manifest, _source, _needed);
        Volatile.Write(ref _current, tcp);
        _progress.Mode = "tcp";
        _run = tcp.RunAsync(cancellationToken);
    }

    /// <summary>Stops the current plane and closes the UDP socket (a blocked receive ends with it).</summary>
    public void Dispose()
    {
        Volatile.Read(ref _current)?.Dispose();
        _link?.Socket.Dispose();
    }
}
