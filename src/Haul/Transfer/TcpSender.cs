using System.Threading.Channels;
using Haul.Content;
using Haul.Protocol;

namespace Haul.Transfer;

/// <summary>
/// Fallback data plane when UDP is blocked: each needed chunk goes as one CHUNK_DATA frame on the TLS
/// connection (TCP does loss recovery and flow control). Chunks reported bad are sent again.
/// </summary>
internal sealed class TcpSender : IDataPlane
{
    private readonly ControlChannel _ctl;
    private readonly Manifest _manifest;
    private readonly ChunkSource _source;
    private readonly Channel<int> _queue = Channel.CreateUnbounded<int>();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<int, int> _bad = [];
    private readonly bool[] _outstanding; // needed and not yet confirmed, by chunk (under _bad's lock)
    private readonly int _needed;
    private int _done;

    public TcpSender(ControlChannel ctl, Manifest manifest, ChunkSource source, int[] needed)
    {
        _ctl = ctl;
        _manifest = manifest;
        _source = source;
        _outstanding = new bool[manifest.Chunks.Length];
        foreach (var c in needed)
        {
            if (!_outstanding[c])
            {
                _outstanding[c] = true;
                _needed++;
                _queue.Writer.TryWrite(c);
            }
        }
    }

    public long WireBytes { get; private set; }

    /// <summary>Bytes the TLS connection took: a peer that stops reading stops it (TCP flow control).</summary>
    public long Progress => _ctl.BytesOut + Volatile.Read(ref _done);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_needed == 0)
        {
            return;
        }

        var buf = new byte[4 + FastCdc.DefaultMax];
        var pump = Task.Run(
            async () =>
            {
                await foreach (int c in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    int len = _manifest.Chunks[c].Length;
                    if (buf.Length < len + 4)
                    {
                        buf = new byte[len + 4];
                    }

                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(buf, (uint)c);
                    _source.Read(c, buf.AsSpan(4, len));
                    await _ctl.SendAsync(FrameType.ChunkData, buf.AsMemory(0, len + 4), cancellationToken).ConfigureAwait(false);
                    WireBytes += len + 4 + Frame.HeaderSize;
                }
            },
            cancellationToken);
        var first = await Task.WhenAny(pump, _finished.Task).ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await first.ConfigureAwait(false);
    }

    /// <summary>
    /// Counts each needed chunk once: a receiver that confirmed one chunk as often as it asked chunks
    /// ended the data phase (and with it the stall deadline) while holding the pull open.
    /// </summary>
    public void OnChunksDone(int[] chunks)
    {
        int fresh = 0;
        lock (_bad)
        {
            foreach (int c in chunks)
            {
                if (_outstanding[c])
                {
                    _outstanding[c] = false;
                    fresh++;
                }
            }
        }

        if (fresh > 0 && Interlocked.Add(ref _done, fresh) >= _needed)
        {
            _queue.Writer.TryComplete();
            _finished.TrySetResult();
        }
    }

    public void OnChunkBad(int chunk)
    {
        lock (_bad)
        {
            _bad[chunk] = _bad.GetValueOrDefault(chunk) + 1;
            if (_bad[chunk] > 3)
            {
                _finished.TrySetException(new HaulException(ErrorCode.CorruptData, $"chunk {chunk} failed verification at the receiver {_bad[chunk]} times", "the source changed during the send; run the send again"));
                return;
            }
        }

        _queue.Writer.TryWrite(chunk);
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
    }
}
