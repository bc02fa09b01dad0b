using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Haul.Content;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>
/// The sending data plane over UDP. Three workers: a reader that loads needed chunks from disk, a
/// paced send thread that seals pieces into GSO batches (retransmissions first), and a feedback
/// thread that turns the receiver's ACKs into known-received bits, NACK-driven retransmissions, RTT
/// and rate updates. Chunk completion arrives from the control channel via <see cref="OnChunksDone"/>.
/// </summary>
internal sealed class UdpSender : IDataPlane
{
    // Bytes of chunk buffers in flight (counted as rented, so many small chunks are not undercounted).
    // The floor is enough for the receiver's verify-and-write pipeline on a LAN; on a long path a chunk
    // stays in flight for about three round trips (send, NACK, resend) under loss, so the window grows
    // with rate × RTT, doubled for rented sizes, up to the receiver's assembly budget.
    private const long WindowFloor = 24L * 1024 * 1024;
    private const long WindowCeiling = ReceiveSession.MaxAssemblyBytes;

    // Until the receiver's need list arrives (a speculative start), at most this much is read and sent:
    // what a delta or a resume can waste, against a round trip or more saved on a fresh delivery.
    internal const long SpeculativeBytes = 8L * 1024 * 1024;

    private readonly Socket _socket;
    private readonly PacketCodec _seal;
    private readonly PacketCodec _open;
    private readonly uint _sessionId;
    private readonly Manifest _manifest;
    private readonly ChunkSource _source;
    private readonly int[] _needed;
    private readonly Congestion.PacingController _rate;
    private readonly bool _gso;
    private readonly int _pieceSize;
    private readonly int _packetSize;
    private readonly int _maxSegments;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, SendChunk> _window = [];
    private readonly List<SendChunk> _windowOrder = [];
    private readonly List<SendChunk> _release = [];
    private readonly Channel<SendChunk> _loaded = Channel.CreateBounded<SendChunk>(new BoundedChannelOptions(6) { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _heard = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly long _t0 = Stopwatch.GetTimestamp();
    private int _doneCount;
    private int _target;
    private bool _speculative;
    private bool[]? _unwanted;
    private long _windowBytes;
    private long _lastLimit;
    private long _windowStalls;
    private long _budgetStalls;
    private readonly LossRecovery _loss;
    private long _rxClock;
    private long _heardAt;
    private volatile bool _stop;

    public UdpSender(Socket connectedSocket, PacketCodec seal, PacketCodec open, uint sessionId, Manifest manifest, ChunkSource source, int[] needed, Congestion.PacingController rate, bool gso, int pieceSize, double initialRttSeconds = double.NaN, bool speculative = false)
    {
        _target = needed.Length;
        _speculative = speculative;
        _loss = new LossRecovery(new RttEstimator(initialRttSeconds), Stopwatch.Frequency);

        _pieceSize = pieceSize;
        _packetSize = DataFormat.PacketSize(pieceSize);
        // One GSO send carries at most 64 segments and 65,507 bytes.
        _maxSegments = Math.Clamp(65000 / _packetSize, 1, 44);
        _socket = connectedSocket;
        _seal = seal;
        _open = open;
        _sessionId = sessionId;
        _manifest = manifest;
        _source = source;
        _needed = needed;
        _rate = rate;
        _gso = gso;
    }

    public long PacketsSent { get; private set; }

    public long Retransmitted { get; private set; }

    public long WireBytes { get; private set; }

    public double SrttMs => _loss.Rtt.Srtt * 1000;

    public double RateBytesPerSec => _rate.PacingRate;

    public Task Finished => _finished.Task;

    /// <summary>Completes at the first authenticated acknowledgement: UDP works both ways.</summary>
    public Task FirstFeedback => _heard.Task;

    /// <summary>When the first authenticated acknowledgement arrived (Stopwatch ticks; 0 before).</summary>
    public long FirstFeedbackAt => Interlocked.Read(ref _heardAt);

    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (_needed.Length == 0)
        {
            _finished.TrySetResult();
            return Task.CompletedTask;
        }

        var reader = Task.Run(() => LoadLoopAsync(cancellationToken), cancellationToken);
        var send = new Thread(() => Guard(SendLoop)) { IsBackground = true, Name = "haul-udp-tx", Priority = ThreadPriority.AboveNormal };
        var feedback = new Thread(() => Guard(FeedbackLoop)) { IsBackground = true, Name = "haul-udp-ack" };
        send.Start();
        feedback.Start();
        if (Environment.GetEnvironmentVariable("HAUL_DEBUG") == "1")
        {
            _ = Task.Run(async () =>
            {
                while (!_stop)
                {
                    await Task.Delay(500, cancellationToken).ConfigureAwait(false);
                    Console.Error.WriteLine($"[udp] {_rate.StateName} rate {_rate.PacingRate / 1e6:0} MB/s btlbw {_rate.BottleneckBytesPerSec / 1e6:0} MB/s queue {_rate.QueueDelayMicros / 1000:0.0} ms loss {_rate.LossRate:P1} srtt {_loss.Rtt.Srtt * 1000:0.00} ms window {_windowBytes / 1e6:0}/{_lastLimit / 1e6:0} MB stalls {_windowStalls}/{_budgetStalls} done {_doneCount}/{_target} sent {PacketsSent} retx {Retransmitted} (nack {_loss.QueuedByNack} timeout {_loss.QueuedByTimeout}) queue {_loss.Pending} live {GC.GetTotalMemory(false) / 1e6:0} MB heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:0} MB committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6:0} MB gcs {GC.CollectionCount(0)}/{GC.CollectionCount(2)} ws {Environment.WorkingSet / 1e6:0} MB");
                }
            }, cancellationToken);
        }
        reader.ContinueWith(t => _finished.TrySetException(t.Exception!.InnerExceptions), TaskContinuationOptions.OnlyOnFaulted);
        cancellationToken.Register(() => _finished.TrySetCanceled(cancellationToken));
        return _finished.Task;
    }

    public void OnChunksDone(int[] chunks)
    {
        lock (_lock)
        {
            foreach (int c in chunks)
            {
                if (_window.Remove(c, out var ch) && !ch.Done)
                {
                    ch.Done = true;
                    _windowOrder.Remove(ch);
                    Leave(ch);
                    _doneCount++;
                }
            }

            if (_doneCount >= _target)
            {
                _stop = true;
                _finished.TrySetResult();
            }
        }

        _wake.Release();
    }

    /// <summary>
    /// Ends a speculative start: the receiver's need list is in. Chunks it already has leave the window
    /// unsent (or half sent) and are never loaded; the transfer finishes when the needed ones are done.
    /// </summary>
    public void Restrict(int[] needed)
    {
        var unwanted = new bool[_manifest.Chunks.Length];
        Array.Fill(unwanted, true);
        foreach (int c in needed)
        {
            unwanted[c] = false;
        }

        lock (_lock)
        {
            Volatile.Write(ref _unwanted, unwanted);
            _target = needed.Length;
            for (int i = _windowOrder.Count - 1; i >= 0; i--)
            {
                var ch = _windowOrder[i];
                if (unwanted[ch.Index])
                {
                    ch.Done = true;
                    _window.Remove(ch.Index);
                    _windowOrder.RemoveAt(i);
                    Leave(ch);
                }
            }

            _speculative = false;
            if (_doneCount >= _target)
            {
                _stop = true;
                _finished.TrySetResult();
            }
        }

        _wake.Release();
    }

    public void OnChunkBad(int chunk)
    {
        lock (_lock)
        {
            if (_window.TryGetValue(chunk, out var ch))
            {
                if (++ch.BadCount > 3)
                {
                    _finished.TrySetException(new HaulException(ErrorCode.CorruptData, $"chunk {chunk} failed verification at the receiver {ch.BadCount} times", "the source changed during the send or the data is being corrupted; run the send again"));
                    return;
                }

                ch.Reset();
            }
        }

        _wake.Release();
    }

    /// <summary>A chunk leaves the window (done or no longer wanted): its buffer goes back after the send loop's next turn. Under the lock.</summary>
    private void Leave(SendChunk ch)
    {
        _windowBytes -= ch.Data.Length;
        Budget?.Return(ch.Data.Length);
        _release.Add(ch);
    }

    /// <summary>The session's share of the process's send buffers (<see cref="MemoryBudget.Sending"/>); null: unbounded (tests).</summary>
    internal MemoryBudget.Account? Budget { get; init; }

    /// <summary>Chunks confirmed and pieces reported received so far: the transfer moving (the stall watch reads it).</summary>
    /// <remarks>Pieces the receiver reports for the first time count too, so a slow link moves it within a chunk; known bits only grow, so a receiver that reports what it never got runs out of them.</remarks>
    public long Progress => Volatile.Read(ref _doneCount) + _loss.KnownPieces;

    public void Dispose()
    {
        lock (_lock)
        {
            Budget?.Return(_windowBytes);
            _windowBytes = 0;
        }

        _stop = true;
        _wake.Release();
        _wake.Dispose();
    }

    private void Guard(Action body)
    {
        try
        {
            body();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException && _stop)
        {
        }
        catch (Exception ex)
        {
            _stop = true;
            _finished.TrySetException(ex);
        }
    }

    private async Task LoadLoopAsync(CancellationToken ct)
    {
        try
        {
            foreach (int c in _needed)
            {
                if (Volatile.Read(ref _unwanted) is { } skip && skip[c])
                {
                    continue;
                }

                int len = _manifest.Chunks[c].Length;
                var buf = BufferPool.Chunks.Rent(len);
                _source.Read(c, buf.AsSpan(0, len));
                await _loaded.Writer.WriteAsync(new SendChunk(c, len, buf, _pieceSize), ct).ConfigureAwait(false);
                _wake.Release();
            }
        }
        finally
        {
            _loaded.Writer.TryComplete();
        }
    }

    private long Now => Stopwatch.GetTimestamp();

    private long NowMicros64 => (Stopwatch.GetTimestamp() - _t0) * 1_000_000 / Stopwatch.Frequency;

    private uint NowMicros => (uint)((Stopwatch.GetTimestamp() - _t0) * 1_000_000 / Stopwatch.Frequency);

    private void SendLoop()
    {
        var batch = GC.AllocateArray<byte>(_maxSegments * _packetSize, pinned: true);
        var picks = new List<(SendChunk Chunk, int Piece, bool Retx)>(_maxSegments);
        var shorts = new List<(SendChunk Chunk, int Piece, bool Retx)>(8);
        long freq = Stopwatch.Frequency;
        double nextSend = Now;
        long lastRto = Now;
        while (!_stop)
        {
            picks.Clear();
            long now = Now;
            lock (_lock)
            {
                foreach (var r in _release)
                {
                    BufferPool.Chunks.Return(r.Data);
                }

                _release.Clear();
                if (now - lastRto > freq / 500)
                {
                    RtoScan(now);
                    lastRto = now;
                }

                // Bandwidth-delay products on the propagation RTT (BBR sizes in-flight data on min RTT
                // too, so a queue that inflates the smoothed RTT, socket buffers on loopback, does not
                // inflate the window and the memory it holds), as many as a chunk stays in flight: more
                // under loss, where every chunk waits out rounds of retransmission (WindowRoundTrips).
                double rtt = double.IsNaN(_rate.RtPropSeconds) ? _loss.Rtt.Srtt : Math.Min(_rate.RtPropSeconds * 1.25, _loss.Rtt.Srtt);
                double trips = WindowRoundTrips(_rate.LossRate, (1 << 20) / _pieceSize);
                long limit = (long)Math.Clamp(trips * _rate.PacingRate * (double.IsNaN(rtt) ? 0 : rtt), WindowFloor, WindowCeiling);
                if (_speculative)
                {
                    limit = SpeculativeBytes;
                }

                _lastLimit = limit;
                // Within this window's limit, and within the peer's and the node's share of send buffers:
                // a peer that acknowledges nothing holds at most its share, until the stall deadline.
                while (_windowBytes < limit && _loaded.Reader.TryPeek(out var ch))
                {
                    if (_unwanted is { } skip && skip[ch.Index])
                    {
                        _loaded.Reader.TryRead(out _);
                        BufferPool.Chunks.Return(ch.Data);
                        continue;
                    }

                    if (Budget is { } budget && !budget.TryTake(ch.Data.Length))
                    {
                        _budgetStalls++;
                        break;
                    }

                    _loaded.Reader.TryRead(out _);

                    _window[ch.Index] = ch;
                    _windowOrder.Add(ch);
                    _windowBytes += ch.Data.Length;
                }

                while (picks.Count < _maxSegments && _loss.TryNextResend(out var rc, out int rp))
                {
                    picks.Add((rc, rp, true));
                }

                for (int i = 0; i < _windowOrder.Count && picks.Count < _maxSegments; i++)
                {
                    var ch = _windowOrder[i];
                    while (ch.NextNew < ch.Pieces && picks.Count < _maxSegments)
                    {
                        picks.Add((ch, ch.NextNew++, false));
                    }
                }

                foreach (var p in picks)
                {
                    LossRecovery.OnSent(p.Chunk, p.Piece, now);
                }
            }

            if (picks.Count == 0)
            {
                if (_windowBytes >= _lastLimit)
                {
                    _windowStalls++;
                }

                _wake.Wait(2);
                continue;
            }

            // GSO needs equal-sized segments; a chunk's short last piece goes on its own.
            shorts.Clear();
            int nFull = 0;
            int off = 0;
            uint ts = NowMicros;
            foreach (var p in picks)
            {
                int len = DataFormat.PieceLength(p.Chunk.Length, p.Piece, _pieceSize);
                if (len != _pieceSize)
                {
                    shorts.Add(p);
                    continue;
                }

                off += SealPiece(p.Chunk, p.Piece, len, ts, batch.AsSpan(off));
                nFull++;
                if (p.Retx)
                {
                    Retransmitted++;
                }
            }

            int sent = off;
            if (nFull > 0)
            {
                Transmit(batch.AsSpan(0, off), nFull);
            }

            foreach (var p in shorts)
            {
                int len = DataFormat.PieceLength(p.Chunk.Length, p.Piece, _pieceSize);
                int n = SealPiece(p.Chunk, p.Piece, len, ts, batch);
                Transmit(batch.AsSpan(0, n), 1);
                sent += n;
                if (p.Retx)
                {
                    Retransmitted++;
                }
            }

            PacketsSent += picks.Count;
            WireBytes += sent;

            // Pacing: a rate, not a window. Credit is capped at 2 ms so an idle spell does not become a burst.
            now = Now;
            double ticksPerByte = freq / _rate.PacingRate;
            nextSend = Math.Max(nextSend, now - (freq / 500.0)) + (sent * ticksPerByte);
            // Waits of over 1.5 ms sleep a millisecond; shorter ones (a 64 KB batch at 1 Gbit/s is
            // 0.5 ms) sleep in microseconds, short of the deadline by the kernel's 50 µs timer slack:
            // yielding through them kept this thread on a core (17% of the sender's CPU in sched_yield)
            // that the receiver and everything else on a small box needed. The last tens of
            // microseconds are still yielded, and credit (up to 2 ms) absorbs any oversleep.
            while (!_stop && (now = Now) < nextSend)
            {
                double wait = nextSend - now;
                if (wait > freq / 667.0)
                {
                    Thread.Sleep(1);
                }
                else if (wait > freq / 10_000.0)
                {
                    Native.SleepMicroseconds((long)(wait * 1e6 / freq) - 50);
                }
                else
                {
                    Thread.Yield();
                }
            }
        }
    }

    /// <summary>
    /// The sender window in round trips of data at the pacing rate. A chunk stays in flight for its
    /// first round trip, up to one more of queue, then one retransmission round (a NACK wait of
    /// 1.25 SRTT) for as long as any of its <paramref name="pieces"/> is still lost: with loss p, the
    /// last of n pieces gets through after about ln(2n) / ln(1/p) rounds (3 at 5%, 2 at 1%, for a
    /// 1 MiB chunk in 1,428-byte pieces). Buffers are counted as rented (powers of two, up to twice
    /// the chunk), so the sum is doubled, and never below 6, the window that held before loss was
    /// counted. Measured at 600 ms RTT / 5% loss: 6 round trips stalled the sender for ~1.5 s in
    /// every sawtooth cycle (80 Mbit/s), 12 never stalled (86 Mbit/s).
    /// </summary>
    internal static double WindowRoundTrips(double loss, int pieces)
    {
        double rounds = 0;
        if (loss > 1e-4)
        {
            rounds = Math.Ceiling(Math.Log(2.0 * Math.Max(pieces, 1)) / Math.Log(1 / Math.Min(loss, 0.5)));
        }

        return Math.Max(6, 2 * (2 + (1.25 * rounds)));
    }

    /// <summary>
    /// The timeout after which a piece never acknowledged is sent again: TCP's srtt + 4 × rttvar, at
    /// least 30 ms, and at least 1.5 × srtt, so it fires after the NACK path has had its turn (a piece
    /// reported missing is resent once it has been out 1.25 × srtt). On a long path the RTT samples
    /// move smoothly, rttvar stays a few milliseconds, and srtt + 4 × rttvar came out below the NACK
    /// guard and below the RTT of a queue that is growing: at 600 ms / 5% loss the timeout queued 40
    /// times more resends than the NACKs did, and 1.3% of all packets arrived twice.
    /// </summary>
    /// <summary>How long a piece must have been out before a NACK resends it (a resend still in flight is not lost).</summary>
    internal static double NackGuard(double srtt) => RttEstimator.NackGuardFor(srtt);

    internal static double RetransmitTimeout(double srtt, double rttvar) => RttEstimator.RetransmitTimeoutFor(srtt, rttvar);

    private int SealPiece(SendChunk ch, int piece, int len, uint ts, Span<byte> dest) =>
        _seal.SealData(_sessionId, (uint)ch.Index, (uint)(piece * _pieceSize), ts, ch.Data.AsSpan(piece * _pieceSize, len), dest);

    private void Transmit(ReadOnlySpan<byte> datagrams, int count)
    {
        if (count == 1 || _gso)
        {
            try
            {
                _socket.Send(datagrams);
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.NoBufferSpaceAvailable or SocketError.ConnectionRefused or SocketError.WouldBlock)
            {
                // Dropped locally or refused by an ICMP error; loss recovery resends it.
                return;
            }
        }

        // No GSO: one datagram per packet, split by each packet's length field.
        int off = 0;
        while (off < datagrams.Length)
        {
            int len = PacketHeaderCodec.ReadLength(datagrams[off..]);
            if (len < PacketHeaderCodec.Size || off + len > datagrams.Length)
            {
                return; // our own batch: cannot happen, but a bad length must not loop or read past it
            }

            try
            {
                _socket.Send(datagrams.Slice(off, len));
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.NoBufferSpaceAvailable or SocketError.ConnectionRefused or SocketError.WouldBlock)
            {
            }

            off += len;
        }
    }

    /// <summary>Timeout path: pieces of a fully sent chunk that the receiver never confirmed. Under the lock.</summary>
    private void RtoScan(long now)
    {
        if (_speculative)
        {
            // Before the need list, a silent receiver is one still reading the manifest: resending would
            // only add waste. Pieces lost meanwhile are asked for (NACK) once it has its plan.
            return;
        }

        _loss.OnTimer(_windowOrder, now);
    }

    private void FeedbackLoop()
    {
        var buf = new byte[2048];
        var plain = new byte[2048];
        _socket.ReceiveTimeout = 50;
        while (!_stop)
        {
            int n;
            try
            {
                n = _socket.Receive(buf);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                continue;
            }

            if (n < PacketCodec.Overhead || (PacketType)buf[0] != PacketType.Ack)
            {
                continue;
            }

            var pkt = buf.AsSpan(0, n);
            int m = PacketCodec.PlainLength(pkt);
            if (m >= AckCodec.HeaderSize && m <= plain.Length && _open.Open(pkt, plain.AsSpan(0, m)))
            {
                if (_heardAt == 0)
                {
                    Interlocked.Exchange(ref _heardAt, Stopwatch.GetTimestamp());
                    _heard.TrySetResult();
                }

                OnAck(plain.AsSpan(0, m));
            }
        }
    }

    private void OnAck(ReadOnlySpan<byte> a)
    {
        long now = Now;
        if (!AckCodec.TryReadHeader(a, out var h))
        {
            return;
        }

        int entries = h.Entries;
        // The receiver's 32-bit microsecond clock wraps every 71 minutes; extend it.
        _rxClock += unchecked(h.RxMicros - (uint)_rxClock);
        long sample = (long)NowMicros - h.Echo - h.HoldMicros;
        _loss.Rtt.OnSample(sample / 1e6);

        _rate.OnFeedback(new Congestion.RateSample(NowMicros64, sample > 0 ? sample : double.NaN, (long)h.ReceivedBytes, _rxClock, h.OneWayDelay, h.MaxPn, h.Received, _seal.Sealed));
        int pos = AckCodec.HeaderSize;
        bool queued = false;
        lock (_lock)
        {
            for (int e = 0; e < entries && pos + AckCodec.EntrySize <= a.Length; e++)
            {
                var (c, seen, ranges) = AckCodec.ReadEntry(a[pos..]);
                pos += AckCodec.EntrySize;
                int rangeBytes = ranges * AckCodec.RangeSize;
                if (pos + rangeBytes > a.Length)
                {
                    break;
                }

                if (_window.TryGetValue(c, out var ch))
                {
                    queued |= _loss.OnAckEntry(ch, seen, a.Slice(pos, rangeBytes), ranges, now);
                }

                pos += rangeBytes;
            }
        }

        if (queued)
        {
            _wake.Release();
        }

        // Trailer: chunks the receiver verified and journaled. The control connection reports them
        // too; whichever arrives first frees the window.
        if (pos < a.Length && AckCodec.ReadDone(a[pos..]) is { Length: > 0 } done)
        {
            OnChunksDone(done);
        }
    }
}
