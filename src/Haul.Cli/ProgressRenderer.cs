using Haul.Transfer;

namespace Haul.Cli;

/// <summary>
/// Draws progress: a redrawn bar on an interactive terminal, a line every few seconds otherwise,
/// or JSON lines on stdout with --json.
/// </summary>
internal sealed class ProgressRenderer
{
    private readonly bool _json;
    private readonly bool _tty;
    private readonly Lock _lock = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private DateTime _lastPlain = DateTime.MinValue;
    private int _lastWidth;

    public ProgressRenderer(bool json)
    {
        _json = json;
        _tty = !Console.IsErrorRedirected;
    }

    public void Report(TransferProgress p)
    {
        lock (_lock)
        {
            if (_json)
            {
                double eta = p.RateBytesPerSec > 0 ? (p.BytesTotal - p.BytesDone) / p.RateBytesPerSec : -1;
                Console.Out.WriteLine(Json.Line(("type", p.Phase == TransferPhase.Notice ? "notice" : "progress"), ("phase", p.Phase.Wire()), ("bytes", p.BytesDone), ("totalBytes", p.BytesTotal), ("files", p.FilesDone), ("totalFiles", p.FilesTotal), ("rateBytesPerSec", p.RateBytesPerSec), ("etaSeconds", eta), ("mode", p.Mode), ("elapsedSeconds", Math.Round(_clock.Elapsed.TotalSeconds, 3)), ("message", p.Notice)));
                return;
            }

            if (p.Phase == TransferPhase.Notice)
            {
                Clear();
                Console.Error.WriteLine($"note: {p.Notice}");
                return;
            }

            string line = Format(p);
            if (_tty)
            {
                string padded = line.PadRight(_lastWidth);
                _lastWidth = line.Length;
                Console.Error.Write("\r" + padded);
                if (p.Phase == TransferPhase.Done)
                {
                    Console.Error.WriteLine();
                    _lastWidth = 0;
                }
            }
            else if (p.Phase == TransferPhase.Done || (DateTime.UtcNow - _lastPlain).TotalSeconds >= 2)
            {
                _lastPlain = DateTime.UtcNow;
                Console.Error.WriteLine(line);
            }
        }
    }

    public void Clear()
    {
        if (_tty && _lastWidth > 0)
        {
            Console.Error.Write("\r" + new string(' ', _lastWidth) + "\r");
            _lastWidth = 0;
        }
    }

    private static string Format(TransferProgress p)
    {
        if (p.Phase == TransferPhase.Scan)
        {
            return $"scanning  {Units.Bytes(p.BytesDone)} in {p.FilesDone} files";
        }

        // Nothing planned yet (a sync still comparing its ends) is 0 %, not done.
        double frac = p.BytesTotal > 0 ? (double)p.BytesDone / p.BytesTotal : p.Phase == TransferPhase.Done ? 1 : 0;
        const int width = 28;
        int fill = (int)Math.Round(frac * width);
        string bar = new string('#', fill) + new string('.', width - fill);
        double eta = p.RateBytesPerSec > 0 ? (p.BytesTotal - p.BytesDone) / p.RateBytesPerSec : double.NaN;
        string rate = $"{Units.Bytes(p.RateBytesPerSec)}/s";
        return $"[{bar}] {frac * 100,5:0.0}%  {Units.Bytes(p.BytesDone)}/{Units.Bytes(p.BytesTotal)}  {p.FilesDone}/{p.FilesTotal} files  {rate,10}  ETA {(p.Phase == TransferPhase.Done ? "0:00" : Units.Duration(eta))}  {p.Mode}";
    }
}
