using System.Buffers.Binary;
using System.Diagnostics;
using System.Threading.Channels;
using Haul.Protocol;

namespace Haul.Tests.Support;

/// <summary>
/// A control connection over a slow path, for tests (<see cref="Haul.Node.HaulNode.ControlStreamFilter"/>):
/// wraps the stream the frames cross (above TLS, where they are plain) and holds the first frame of each
/// chosen type, and everything after it in the same direction, for the time given, as a long path would.
/// Writes return at once (a kernel buffer would take them) and reach the peer when due; reads of a held
/// frame wait. The engine itself has no delays for tests.
/// </summary>
internal sealed class HeldFramesStream : Stream
{
    private readonly Stream _inner;
    private readonly Dictionary<FrameType, TimeSpan> _holdOut;
    private readonly Dictionary<FrameType, TimeSpan> _holdIn;
    private readonly FrameScanner _outScan;
    private readonly FrameScanner _inScan;
    private readonly Channel<(byte[] Bytes, long Due)> _out = Channel.CreateUnbounded<(byte[], long)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _pump;
    private long _outDue;
    private Exception? _writeFailure;
    private byte[]? _stash;
    private int _stashOffset;
    private long _stashDue;

    /// <param name="holdOut">Frames this side writes: the first of each type waits this long (and all after it).</param>
    /// <param name="holdIn">Frames the peer sent: the first of each type reaches the reader this much later (and all after it).</param>
    public HeldFramesStream(Stream inner, Dictionary<FrameType, TimeSpan>? holdOut = null, Dictionary<FrameType, TimeSpan>? holdIn = null)
    {
        _inner = inner;
        _holdOut = holdOut ?? [];
        _holdIn = holdIn ?? [];
        _outScan = new FrameScanner(Written);
        _inScan = new FrameScanner(Received);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The frame types held so far, in order, for tests that check the hold happened.</summary>
    public List<FrameType> Held { get; } = [];

    /// <summary>Every frame this side wrote (type and payload length), in order.</summary>
    public List<(FrameType Type, int Length)> Written { get; } = [];

    /// <summary>Every frame the peer sent that reached this side (type and payload length), in order.</summary>
    public List<(FrameType Type, int Length)> Received { get; } = [];

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_writeFailure is { } failed)
        {
            throw new IOException("a held write failed", failed);
        }

        long now = Stopwatch.GetTimestamp();
        int at = _outScan.Find(buffer.Span, _holdOut, out var delay, out var type);
        if (at < 0)
        {
            Enqueue(buffer, now);
            return ValueTask.CompletedTask;
        }

        lock (Held)
        {
            Held.Add(type);
        }

        Enqueue(buffer[..at], now);
        _outDue = Math.Max(_outDue, now + (long)(delay.TotalSeconds * Stopwatch.Frequency));
        Enqueue(buffer[at..], now);
        return ValueTask.CompletedTask;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_stash is { } stash)
        {
            await WaitUntilAsync(_stashDue, cancellationToken).ConfigureAwait(false);
            int n = Math.Min(buffer.Length, stash.Length - _stashOffset);
            stash.AsSpan(_stashOffset, n).CopyTo(buffer.Span);
            _stashOffset += n;
            if (_stashOffset == stash.Length)
            {
                _stash = null;
            }

            return n;
        }

        int got = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return 0;
        }

        int at = _inScan.Find(buffer.Span[..got], _holdIn, out var delay, out var type);
        if (at < 0)
        {
            return got;
        }

        lock (Held)
        {
            Held.Add(type);
        }

        _stash = buffer[at..got].ToArray();
        _stashOffset = 0;
        _stashDue = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        return at > 0 ? at : await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Nothing to do: the pump flushes each write once it is due.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        _out.Writer.TryComplete();
        await _pump.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); // a held BYE still goes
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _out.Writer.TryComplete();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Enqueue(ReadOnlyMemory<byte> bytes, long now)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        _outDue = Math.Max(_outDue, now);
        _out.Writer.TryWrite((bytes.ToArray(), _outDue));
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var (bytes, due) in _out.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await WaitUntilAsync(due, CancellationToken.None).ConfigureAwait(false);
                await _inner.WriteAsync(bytes).ConfigureAwait(false);
                await _inner.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _writeFailure = ex;
        }
    }

    private static async Task WaitUntilAsync(long due, CancellationToken cancellationToken)
    {
        long left = due - Stopwatch.GetTimestamp();
        if (left > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Follows frame boundaries in one direction of the byte stream.</summary>
    private sealed class FrameScanner
    {
        private readonly byte[] _header = new byte[Frame.HeaderSize];
        private readonly List<(FrameType, int)> _seen;
        private int _headerGot;
        private long _payloadLeft;

        public FrameScanner(List<(FrameType, int)> seen)
        {
            _seen = seen;
        }

        /// <summary>
        /// Scans <paramref name="data"/> (the next bytes of the stream) and returns where the first frame of a
        /// type in <paramref name="hold"/> starts in it (0 if its header began in an earlier piece), or -1; the
        /// type found is taken out of <paramref name="hold"/>, so it is held once.
        /// </summary>
        public int Find(ReadOnlySpan<byte> data, Dictionary<FrameType, TimeSpan> hold, out TimeSpan delay, out FrameType type)
        {
            delay = default;
            type = default;
            int found = -1;
            int i = 0;
            while (i < data.Length)
            {
                if (_payloadLeft > 0)
                {
                    int skip = (int)Math.Min(_payloadLeft, data.Length - i);
                    i += skip;
                    _payloadLeft -= skip;
                    continue;
                }

                int start = i - _headerGot;
                int take = Math.Min(Frame.HeaderSize - _headerGot, data.Length - i);
                data.Slice(i, take).CopyTo(_header.AsSpan(_headerGot));
                _headerGot += take;
                i += take;
                if (_headerGot < Frame.HeaderSize)
                {
                    break;
                }

                _headerGot = 0;
                var t = (FrameType)_header[1];
                _payloadLeft = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(4));
                lock (_seen)
                {
                    _seen.Add((t, (int)_payloadLeft));
                }

                if (found < 0 && hold.Remove(t, out var d))
                {
                    (found, delay, type) = (Math.Max(start, 0), d, t);
                }
            }

            return found;
        }
    }
}
