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

    public ControlChannel(Stream stream) => _stream = stream;

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
            throw PeerGone(ex);
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

    private static HaulException PeerGone(Exception ex) =>
        new(ErrorCode.PeerWentAway, "the peer closed the connection", "run the same command again: the transfer resumes where it stopped", ex);
}
