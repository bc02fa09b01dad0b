using System.Text.Json;

namespace Haul.Sync;

/// <summary>
/// The run's log: one line per action and a summary, as text ("2026-11-22T10:00:00Z copied a/b.bin 1.2 MB")
/// or as JSON lines (--json-log), to a file (--log-file) or standard error.
/// </summary>
internal sealed class SyncLog : IDisposable
{
    private readonly TextWriter _out;
    private readonly bool _json;
    private readonly bool _own;
    private readonly Lock _lock = new();

    public SyncLog(string? file, bool json, bool quiet = false)
    {
        _json = json;
        if (file is not null)
        {
            _out = new StreamWriter(file, append: true) { AutoFlush = true };
            _own = true;
        }
        else
        {
            _out = quiet ? TextWriter.Null : Console.Error;
        }
    }

    public void Action(string what, string path, long size = -1, string? detail = null)
    {
        lock (_lock)
        {
            if (_json)
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms))
                {
                    w.WriteStartObject();
                    w.WriteString("time", DateTimeOffset.UtcNow);
                    w.WriteString("level", what is "error" or "refused" ? "error" : "info");
                    w.WriteString("action", what);
                    w.WriteString("path", path);
                    if (size >= 0)
                    {
                        w.WriteNumber("size", size);
                    }

                    if (detail is not null)
                    {
                        w.WriteString("detail", detail);
                    }

                    w.WriteEndObject();
                }

                _out.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
            }
            else
            {
                // Names come from peers and buckets: a newline or an escape sequence in one would forge a
                // line of this log or drive the terminal, so control characters are written escaped.
                _out.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {what,-8} {OneLine(path)}{(size >= 0 ? $" ({size} bytes)" : string.Empty)}{(detail is null ? string.Empty : ": " + OneLine(detail))}");
            }
        }
    }

    private static string OneLine(string text) => Security.Printable.Of(text, int.MaxValue);

    public void Dispose()
    {
        if (_own)
        {
            _out.Dispose();
        }
    }
}
