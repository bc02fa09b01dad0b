using System.Diagnostics;
using Haul.Content;

namespace Haul.Transfer;

/// <summary>
/// What a send has moved, in file bytes in place (a chunk that occurs k times is worth k × its length) and
/// files, and how (the mode). The control loop counts the receiver's confirmations here, the data plane
/// records its switch to TCP, and the reporter reads snapshots; thread-safe for that one writer of each.
/// </summary>
internal sealed class SendProgress
{
    private readonly Manifest _manifest;
    private long[] _weight = [];
    private long _bytesDone;
    private int _filesDone;
    private string _mode = string.Empty;

    public SendProgress(Manifest manifest)
    {
        _manifest = manifest;
    }

    public long BytesDone => Interlocked.Read(ref _bytesDone);

    public int FilesDone => Volatile.Read(ref _filesDone);

    /// <summary>Bytes of the chunks the receiver asked for (each once): what the data plane must move.</summary>
    public long ChunkBytes { get; private set; }

    /// <summary>"udp+gso", "udp" or "tcp": how the data moves now.</summary>
    public string Mode
    {
        get => Volatile.Read(ref _mode);
        set => Volatile.Write(ref _mode, value);
    }

    /// <summary>
    /// Starts the count from the need list: whatever the receiver does not need is done (it holds it), and
    /// the files it reported complete are.
    /// </summary>
    public void Plan(NeedList need)
    {
        var m = _manifest;
        var weight = new long[m.Chunks.Length];
        foreach (var e in m.Entries)
        {
            foreach (var c in e.Chunks)
            {
                weight[c] += m.Chunks[c].Length;
            }
        }

        long neededWeight = 0;
        long chunkBytes = 0;
        foreach (var c in need.Chunks)
        {
            neededWeight += weight[c];
            chunkBytes += m.Chunks[c].Length;
        }

        _weight = weight;
        ChunkBytes = chunkBytes;
        Interlocked.Exchange(ref _bytesDone, m.TotalBytes - neededWeight);
        Volatile.Write(ref _filesDone, need.FilesAlreadyDone);
    }

    /// <summary>A CHUNK_DONE: its chunks' weight is done, and the receiver's count of complete files is the one it gives.</summary>
    public void ChunksDone(int[] chunks, int filesDone)
    {
        long add = 0;
        foreach (var c in chunks)
        {
            add += _weight[c];
        }

        Interlocked.Add(ref _bytesDone, add);
        Volatile.Write(ref _filesDone, filesDone);
    }

    public TransferProgress Snapshot(TransferPhase phase, double rateBytesPerSec, string? notice = null) =>
        new(phase, BytesDone, _manifest.TotalBytes, FilesDone, _manifest.FileCount, rateBytesPerSec, Mode, notice);

    /// <summary>A "transfer" snapshot every 250 ms, with a smoothed rate, until cancelled.</summary>
    public async Task ReportAsync(Action<TransferProgress> report, Stopwatch clock, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        long lastBytes = BytesDone;
        double lastT = clock.Elapsed.TotalSeconds;
        double rate = 0;
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            long b = BytesDone;
            double t = clock.Elapsed.TotalSeconds;
            rate = NextRate(rate, b - lastBytes, t - lastT);
            (lastBytes, lastT) = (b, t);
            report(new TransferProgress(TransferPhase.Transfer, b, _manifest.TotalBytes, FilesDone, _manifest.FileCount, rate, Mode));
        }
    }

    /// <summary>The rate smoothed over ticks: 70 % the last estimate, 30 % this tick's (the first tick's alone).</summary>
    internal static double NextRate(double rate, long bytes, double seconds)
    {
        double inst = bytes / Math.Max(seconds, 1e-3);
        return rate == 0 ? inst : (0.7 * rate) + (0.3 * inst);
    }
}
