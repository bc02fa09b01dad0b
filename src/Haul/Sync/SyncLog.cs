using System.Text.Json;

namespace Haul.Sync;

/// <summary>
/// The run's log: one line per action and a summary, as text ("2026-11-22T10:00:00Z copied a/b.bin 1.2 MB")
/// or as JSON lines (--json-log), to a file (--log-file) or standard error. A file records every line;
/// standard error only those at or above <see cref="SyncVerbosity"/> (by default notices and errors, not
/// one line per file: a sync of 356 files is one summary line, as rclone and rsync print nothing).
/// </summary>
internal sealed class SyncLog : IDisposable
{
    private readonly TextWriter _out;
    private readonly bool _json;
    private readonly bool _own;
    private readonly SyncVerbosity _level;
    private readonly Lock _lock = new();

    /// <param name="quiet">Nothing to standard error (a run inside the node, or a test); otherwise every line.</param>
    public SyncLog(string? file, bool json, bool quiet = false)
        : this(file, json, quiet ? SyncVerbosity.Silent : SyncVerbosity.Actions)
    {
    }

    public SyncLog(string? file, bool json, SyncVerbosity level)
    {
        _json = json;
        _level = file is null ? level : SyncVerbosity.Actions;
        if (file is not null)
        {
            _out = new StreamWriter(file, append: true) { AutoFlush = true };
            _own = true;
        }
        else
        {
            _out = level == SyncVerbosity.Silent ? TextWriter.Null : Console.Error;
        }
    }

    /// <summary>Called before a line goes to standard error (a live progress line clears itself first).</summary>
    public Action? BeforeConsoleLine { get; init; }

    /// <summary>How much a line matters: errors always show, notices by default, per-file actions with -v.</summary>
    internal static SyncVerbosity LevelOf(string what) => what switch
    {
        "error" or "refused" => SyncVerbosity.Errors,
        "notice" or "conflict" or "skipped" or "warning" => SyncVerbosity.Notices,
        _ => SyncVerbosity.Actions,
    };

    public void Action(string what, string path, long size = -1, string? detail = null)
    {
        if (LevelOf(what) > _level)
        {
            return;
        }

        lock (_lock)
        {
            if (!_own)
            {
                BeforeConsoleLine?.Invoke();
            }

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
