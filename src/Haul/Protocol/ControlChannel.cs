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

    public async ValueTask SendAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > Frame.MaxPayload)
        {
            throw new ArgumentException("payload exceeds the frame limit", nameof(payload));
        }

        var header = new byte[Frame.HeaderSize];
        FrameCodec.WriteHeader(header, type, payload.Length);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            if (payload.Length > 0)
            {
                await _stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
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

    public ValueTask SendAsync(FrameType type, WireWriter w, CancellationToken cancellationToken = default) =>
        SendAsync(type, w.WrittenMemory, cancellationToken);

    /// <summary>Reads the next frame; an ERROR frame from the peer is raised as its <see cref="HaulException"/>.</summary>
    public async ValueTask<Frame> ReceiveAsync(CancellationToken cancellationToken = default)
    {
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

    private async ValueTask<Frame> ReceiveCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
            int len = FrameCodec.ReadHeader(_header, out var type);
            var payload = len == 0 ? [] : new byte[len];
            if (len > 0)
            {
                await _stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
            }

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
