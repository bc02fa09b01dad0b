using System.Collections.Concurrent;

namespace Haul.Transfer;

/// <summary>
/// Builds the receiver's ACKs (<see cref="AckCodec"/>) from what it has received: the packet counters
/// and the timestamp echo, an entry per chunk assembled but not yet verified, an entry with the
/// missing-piece ranges (the NACKs) per chunk being assembled, and the trailer of chunks verified and
/// journaled. Also decides when one is due: every 64 DATA packets, at least every millisecond while
/// data arrives, every 10 ms while chunks are incomplete.
/// </summary>
/// <remarks>
/// Owned by the UDP receive thread, except <see cref="OnJournaled"/>, which the writer calls. Keeps no
/// clock: <c>now</c> is in ticks of the frequency given (Stopwatch ticks in the receiver).
/// </remarks>
internal sealed class AckBuilder
{
    /// <summary>How many ACKs repeat a journaled chunk: the trailer is a hint, CHUNK_DONE on TLS the record.</summary>
    internal const int DoneRepeats = 4;

    /// <summary>Journaled chunks waiting to be reported, at most: the oldest notices go past it.</summary>
    internal const int MaxDoneToReport = 4096;

    /// <summary>Room kept after the entries for the done trailer (its count and 16 chunks).</summary>
    private const int TrailerRoom = 2 + (16 * AckCodec.DoneSize);

    private readonly long _frequency;
    private readonly long _epoch;
    private readonly byte[] _plain = new byte[DataFormat.MaxAckPlain];
    private readonly List<(int Chunk, int Pieces)> _assembled = [];
    private readonly ConcurrentQueue<int> _journaled = new();
    private readonly List<(int Chunk, int Left)> _doneToReport = [];
    private ulong _maxPn;
    private ulong _received;
    private ulong _receivedBytes;
    private uint _echo;
    private long _echoAt;
    private int _oneWayDelay;
    private long _lastAckAt;
    private int _sinceAck;
    private int _rotate;

    /// <param name="epoch">The tick the receiver's 32-bit µs clock counts from.</param>
    /// <param name="frequency">Ticks per second.</param>
    public AckBuilder(long epoch, long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequency);
        _epoch = epoch;
        _frequency = frequency;
    }

    /// <summary>Chunks assembled and awaiting verification, still reported.</summary>
    public int Assembled => _assembled.Count;

    /// <summary>An authenticated packet: counted in every ACK. Returns true when an ACK is due now (the 64th DATA packet since the last).</summary>
    public bool OnAuthenticated(ulong packetNumber, int length, bool data)
    {
        if (packetNumber > _maxPn)
        {
            _maxPn = packetNumber;
        }

        _received++;
        _receivedBytes += (ulong)length;
        return data && ++_sinceAck >= 64;
    }

    /// <summary>The send time of the newest DATA packet, echoed for the sender's RTT sample, and its one-way delay.</summary>
    public void Stamp(uint senderMicros, long now)
    {
        _echo = senderMicros;
        _echoAt = now;
        _oneWayDelay = unchecked((int)(RxMicros(now) - senderMicros));
    }

    /// <summary>Every piece of <paramref name="chunk"/> is in: reported whole until, at a build, the session says it was verified or taken elsewhere.</summary>
    public void OnAssembled(int chunk, int pieces) => _assembled.Add((chunk, pieces));

    /// <summary>A chunk verified and journaled (the writer's thread): repeated in the next <see cref="DoneRepeats"/> ACKs.</summary>
    public void OnJournaled(int chunk) => _journaled.Enqueue(chunk);

    /// <summary>Whether an ACK is due on a timer tick, with <paramref name="partial"/> chunks being assembled.</summary>
    public bool Due(long now, int partial)
    {
        long since = now - _lastAckAt;
        bool pending = partial > 0 || _assembled.Count > 0;
        return (_sinceAck > 0 && since >= _frequency / 1000) || (pending && since >= _frequency / 100);
    }

    /// <summary>
    /// The next ACK's plaintext (valid until the next call): the header, entries for assembled chunks
    /// (those <paramref name="stillAssembled"/> still holds), then <paramref name="partial"/> chunks with
    /// their missing ranges, starting one further each ACK so every chunk is reported when they do not all
    /// fit, then the done trailer. Marks the ACK sent at <paramref name="now"/>.
    /// </summary>
    public ReadOnlySpan<byte> Build(long now, IReadOnlyList<ChunkAssembly> partial, Func<int, bool> stillAssembled)
    {
        var a = _plain.AsSpan();
        uint hold = (uint)Math.Min(uint.MaxValue, (now - _echoAt) * 1_000_000 / _frequency);
        AckCodec.WriteHeader(a, new AckHeader(_echo, hold, _maxPn, _received, _receivedBytes, RxMicros(now), _oneWayDelay, 0));
        int pos = AckCodec.HeaderSize;
        int entries = 0;
        var body = a[..(a.Length - TrailerRoom)];

        // Chunks complete but not yet written: tell the sender so it does not time them out.
        for (int i = _assembled.Count - 1; i >= 0; i--)
        {
            var (c, pieces) = _assembled[i];
            if (!stillAssembled(c))
            {
                _assembled.RemoveAt(i);
                continue;
            }

            if (pos + AckCodec.EntrySize > body.Length)
            {
                break;
            }

            AckCodec.WriteEntry(a[pos..], c, pieces, 0);
            pos += AckCodec.EntrySize;
            entries++;
        }

        int count = partial.Count;
        for (int k = 0; k < count && pos + AckCodec.EntrySize <= body.Length; k++)
        {
            pos = WritePartial(a, body.Length, pos, partial[(k + _rotate) % count]);
            entries++;
        }

        _rotate = count == 0 ? 0 : (_rotate + 1) % count;
        AckCodec.WriteEntryCount(a, entries);
        pos = WriteTrailer(a, pos);
        _lastAckAt = now;
        _sinceAck = 0;
        return a[..pos];
    }

    /// <summary>One partial chunk: its entry and missing ranges up to <paramref name="end"/>; cut short, it reports only as far as its ranges reach.</summary>
    private static int WritePartial(Span<byte> a, int end, int pos, ChunkAssembly asm)
    {
        int entryPos = pos;
        AckCodec.WriteEntry(a[pos..], asm.Chunk, asm.SeenUpTo, 0);
        pos += AckCodec.EntrySize;
        int ranges = 0;
        int p = 0;
        while (p < asm.SeenUpTo && pos + AckCodec.RangeSize <= end)
        {
            if ((p & 63) == 0 && asm.Bits[p >> 6] == ulong.MaxValue)
            {
                p += 64;
                continue;
            }

            if (asm.Has(p))
            {
                p++;
                continue;
            }

            int start = p;
            while (p < asm.SeenUpTo && !asm.Has(p))
            {
                p++;
            }

            AckCodec.WriteRange(a[pos..], start, p - start);
            pos += AckCodec.RangeSize;
            ranges++;
        }

        AckCodec.FinishEntry(a[entryPos..], Math.Min(p, asm.SeenUpTo), ranges);
        return pos;
    }

    /// <summary>The done trailer: the newest journaled chunks first, each counted down once per ACK it rides in.</summary>
    private int WriteTrailer(Span<byte> a, int pos)
    {
        while (_journaled.TryDequeue(out int j))
        {
            _doneToReport.Add((j, DoneRepeats));
        }

        if (_doneToReport.Count > MaxDoneToReport)
        {
            // Many tiny chunks: the oldest notices go; CHUNK_DONE on TLS still carries them.
            _doneToReport.RemoveRange(0, _doneToReport.Count - MaxDoneToReport);
        }

        if (pos + 2 > a.Length)
        {
            return pos;
        }

        int countPos = pos;
        int done = 0;
        pos += 2;
        for (int i = _doneToReport.Count - 1; i >= 0 && pos + AckCodec.DoneSize <= a.Length; i--)
        {
            var (chunk, left) = _doneToReport[i];
            AckCodec.WriteDone(a[pos..], chunk);
            pos += AckCodec.DoneSize;
            done++;
            if (left == 1)
            {
                _doneToReport.RemoveAt(i);
            }
            else
            {
                _doneToReport[i] = (chunk, left - 1);
            }
        }

        AckCodec.WriteDoneCount(a[countPos..], done);
        return pos;
    }

    private uint RxMicros(long ticks) => unchecked((uint)((ticks - _epoch) * 1_000_000 / _frequency));
}
