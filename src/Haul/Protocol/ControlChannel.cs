using System.Buffers;

namespace Haul.Protocol;

/// <summary>
/// Length-prefixed frames over the TLS stream. One reader at a time; writers are serialised, so the
/// transfer engine may send acknowledgements from several tasks.
/// </summary>
internal sealed class ControlChannel : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly byte[] _header = new byte[Frame.HeaderSize];
    private (FrameType Type, Action<Frame> Check, Func<Exception, Exception?> MapFailure)? _deferred;

    private readonly System.Net.Sockets.Socket? _socket;

    public ControlChannel(Stream stream, System.Net.Sockets.Socket? socket = null)
    {
        _stream = stream;
        _socket = socket;
    }

    /// <summary>
    /// The kernel's smoothed round-trip time of the TCP connection underneath (Linux TCP_INFO), or NaN.
    /// It seeds the UDP data plane's RTT, so the first retransmission timeout on a long path is not a
    /// LAN default, without a probe round trip before the first data packet.
    /// </summary>
    public double TcpRttSeconds()
    {
        if (_socket is null || !OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        try
        {
            // struct tcp_info: tcpi_rtt (microseconds) is the u32 at offset 68.
            Span<byte> info = stackalloc byte[104];
            int n = _socket.GetRawSocketOption(6 /* IPPROTO_TCP */, 11 /* TCP_INFO */, info);
            if (n < 72)
            {
                return double.NaN;
            }

            uint us = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(info[68..]);
            return us > 0 ? us / 1e6 : double.NaN;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return double.NaN;
        }
    }

    /// <summary>
    /// Lets the caller send before the peer's first frame has arrived (a pipelined HELLO saves a round
    /// trip): the next read takes that frame first and hands it to <paramref name="check"/>. Until it
    /// has arrived, a failure to read or write goes through <paramref name="mapFailure"/> (which may
    /// return null to keep it), so a peer that refuses the connection is still reported as such.
    /// </summary>
    public void DeferFirst(FrameType type, Action<Frame> check, Func<Exception, Exception?> mapFailure) =>
        _deferred = (type, check, mapFailure);

    /// <summary>
    /// Queues a frame to go with the next <see cref="SendAsync(FrameType, ReadOnlyMemory{byte}, CancellationToken)"/>
    /// (or before the next read), in the same write: a HELLO and the first request then share TLS records
    /// and TCP segments, and fit TCP's initial window of ten segments instead of spilling into a second
    /// round trip.
    /// </summary>
    public void Enqueue(FrameType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > Frame.MaxPayload)
        {
            throw new ArgumentException("payload exceeds the frame limit", nameof(payload));
        }

        _writeLock.Wait();
        try
        {
            Append(type, payload);
            Volatile.Write(ref _queued, true);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Enqueue(FrameType type, WireWriter w) => Enqueue(type, w.WrittenMemory.Span);

    /// <summary>
    /// Sends one frame, with any queued before it, in as few writes as possible: one TLS record per
    /// 16 KB instead of one per header and one per payload, so small frames do not each cost a segment of
    /// the congestion window.
    /// </summary>
    public async ValueTask SendAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > Frame.MaxPayload)
        {
            throw new ArgumentException("payload exceeds the frame limit", nameof(payload));
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool large = payload.Length > CopyLimit;
            Append(type, large ? ReadOnlySpan<byte>.Empty : payload.Span, large ? payload.Length : -1);
            await _stream.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytesOut, _pending.WrittenCount);
            ResetPending();
            if (large)
            {
                // In slices, so a slow link shows progress within a chunk (BytesOut: a stall watch reads it).
                for (int off = 0; off < payload.Length; off += WriteSlice)
                {
                    int n = Math.Min(WriteSlice, payload.Length - off);
                    await _stream.WriteAsync(payload.Slice(off, n), cancellationToken).ConfigureAwait(false);
                    Interlocked.Add(ref _bytesOut, n);
                }
            }

            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Mapped(PeerGone(ex));
        }
        catch (Exception ex) when (_deferred is not null && ex is not OperationCanceledException && Mapped(ex) is { } mapped && mapped != ex)
        {
            throw mapped;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private const int CopyLimit = 64 * 1024;
    private const int WriteSlice = 256 * 1024;
    private long _bytesOut;

    /// <summary>Bytes of frames this side has handed to the connection (the peer's reading lets them through: TCP flow control).</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);
    private ArrayBufferWriter<byte> _pending = new(4096);

    // Set by Enqueue only (not by a send's own transient use of the buffer), so a read never waits
    // for the write lock unless a queued frame really is waiting: a read stuck behind a write that
    // waits on the peer's reading could deadlock both ends once TCP's buffers fill.
    private bool _queued;

    /// <summary>Appends a frame header (for <paramref name="length"/> bytes, or the payload's) and the payload to the pending buffer; caller holds the write lock.</summary>
    private void Append(FrameType type, ReadOnlySpan<byte> payload, int length = -1)
    {
        var header = _pending.GetSpan(Frame.HeaderSize);
        FrameCodec.WriteHeader(header, type, length >= 0 ? length : payload.Length);
        _pending.Advance(Frame.HeaderSize);
        _pending.Write(payload);
    }

    private void ResetPending()
    {
        Volatile.Write(ref _queued, false);
        if (_pending.Capacity > 4 * CopyLimit)
        {
            _pending = new ArrayBufferWriter<byte>(4096); // a queued manifest part is not kept for the connection's life
        }
        else
        {
            _pending.ResetWrittenCount();
        }
    }

    /// <summary>Writes frames queued with <see cref="Enqueue(FrameType, ReadOnlySpan{byte})"/> (before a read that waits on their answer).</summary>
    /// <summary>Writes queued frames now, in one write (one TLS record), rather than with the next frame.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => FlushPendingAsync(cancellationToken);

    private async ValueTask FlushPendingAsync(CancellationToken cancellationToken)
    {
        if (!Volatile.Read(ref _queued))
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pending.WrittenCount > 0)
            {
                await _stream.WriteAsync(_pending.WrittenMemory, cancellationToken).ConfigureAwait(false);
                ResetPending();
                await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException ex)
        {
            throw Mapped(PeerGone(ex));
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public ValueTask SendAsync(FrameType type, WireWriter w, CancellationToken cancellationToken = default) =>
        SendAsync(type, w.WrittenMemory, cancellationToken);

    /// <summary>Reads the next frame; an ERROR frame from the peer is raised as its <see cref="HaulException"/>.</summary>
    public async ValueTask<Frame> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        await FlushPendingAsync(cancellationToken).ConfigureAwait(false);
        if (_deferred is { } d)
        {
            Frame first;
            try
            {
                first = await ReceiveCoreAsync(cancellationToken).ConfigureAwait(false);
                if (first.Type != d.Type)
                {
                    ThrowHelper.Protocol($"expected {d.Type} but the peer sent {first.Type}");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && d.MapFailure(ex) is { } mapped && mapped != ex)
            {
                throw mapped;
            }

            _deferred = null;
            d.Check(first);
        }

        return await ReceiveCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The largest payload accepted from the peer; a larger header is a protocol error before anything is allocated.</summary>
    public int MaxFrame { get; set; } = Frame.MaxPayload;

    /// <summary>
    /// When set, a frame whose header has arrived must keep pace: after this grace period at least
    /// <see cref="FrameMinBytesPerSecond"/> of its payload per second since the header, or the read fails
    /// (a peer sending a frame one byte at a time, slowloris). Silence between frames is not bounded here.
    /// </summary>
    public TimeSpan? FrameGrace { get; set; }

    public int FrameMinBytesPerSecond { get; set; } = 1024;

    /// <summary>Payloads up to this size are allocated whole when their header arrives; larger ones grow as their bytes do.</summary>
    private const int AllocateWhole = 1024 * 1024;

    private async ValueTask<Frame> ReceiveCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
            int len = FrameCodec.ReadHeader(_header, out var type, MaxFrame);
            var payload = len == 0 ? [] : await ReadPayloadAsync(len, cancellationToken).ConfigureAwait(false);

            if (type == FrameType.Error)
            {
                var err = Messages.ErrorMessage.Decode(payload);
                throw new HaulException(err.Code, err.Message, err.Hint);
            }

            return new Frame(type, payload);
        }
        catch (EndOfStreamException ex)
        {
            throw PeerGone(ex);
        }
        catch (IOException ex)
        {
            throw PeerGone(ex);
        }
    }

    /// <summary>
    /// Reads a payload of <paramref name="len"/> bytes. A header claiming 16 MiB costs at most 1 MiB until
    /// the bytes come (then the buffer doubles with them), and with <see cref="FrameGrace"/> set, a payload
    /// that falls behind the minimum pace ends the read.
    /// </summary>
    private async ValueTask<byte[]> ReadPayloadAsync(int len, CancellationToken cancellationToken)
    {
        var buf = new byte[Math.Min(len, AllocateWhole)];
        int got = 0;

        // Two sources of cancellation: the caller's token and the pace deadline.
        using var pace = FrameGrace is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (got < len)
        {
            if (got == buf.Length)
            {
                Array.Resize(ref buf, (int)Math.Min(len, 2L * buf.Length));
            }

            if (pace is not null)
            {
                // The payload must have reached got + 1 bytes by grace + got / rate after its header.
                var due = FrameGrace!.Value + TimeSpan.FromSeconds((double)got / Math.Max(1, FrameMinBytesPerSecond));
                var left = due - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                pace.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }

            int n;
            try
            {
                n = await _stream.ReadAsync(buf.AsMemory(got), pace?.Token ?? cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HaulException(
                    ErrorCode.ProtocolError,
                    $"a {len}-byte frame came too slowly: {got} bytes in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s",
                    "check the link between the nodes",
                    ex);
            }

            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            got += n;
        }

        return buf;
    }

    public async ValueTask<Frame> ExpectAsync(FrameType type, CancellationToken cancellationToken = default)
    {
        var f = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (f.Type != type)
        {
            ThrowHelper.Protocol($"expected {type} but the peer sent {f.Type}");
        }

        return f;
    }

    public async ValueTask SendErrorAsync(HaulException ex, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendAsync(FrameType.Error, new Messages.ErrorMessage(ex.Code, ex.Message, ex.Hint).Encode(), cancellationToken).ConfigureAwait(false);
        }
        catch (HaulException)
        {
            // The peer is already gone; the error is logged by the caller.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _writeLock.Dispose();
    }

    private Exception Mapped(Exception ex) => _deferred is { } d ? d.MapFailure(ex) ?? ex : ex;

    private static HaulException PeerGone(Exception ex) =>
        new(ErrorCode.PeerWentAway, "the peer closed the connection", "run the same command again: the transfer resumes where it stopped", ex);
}
