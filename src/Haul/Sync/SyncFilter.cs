using System.Text.RegularExpressions;
using System.Text;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// rclone-style filters. Patterns: '*' any run of characters except '/', '**' any run including '/',
/// '?' one character except '/', '[...]' a class, '{a,b}' alternatives; a leading '/' anchors the
/// pattern at the root of the transfer, otherwise it matches the end of the path (so '*.tmp' excludes
/// every .tmp file at any depth); a trailing '/' matches everything under a directory of that name.
/// Excludes are checked first, then includes; when any include is given, a file no include matches is
/// left out. Size and age limits apply to files; directories are never filtered by them.
/// </summary>
internal sealed class SyncFilter
{
    private readonly List<Regex> _exclude = [];
    private readonly List<Regex> _include = [];

    public long MinSize { get; init; } = -1;

    public long MaxSize { get; init; } = -1;

    /// <summary>Files modified more recently than this are left out (UTC ticks; 0 = no limit).</summary>
    public long ModifiedBeforeTicks { get; init; }

    /// <summary>Files modified longer ago than this are left out (UTC ticks; 0 = no limit).</summary>
    public long ModifiedAfterTicks { get; init; }

    public bool IsEmpty => _exclude.Count == 0 && _include.Count == 0 && MinSize < 0 && MaxSize < 0 && ModifiedBeforeTicks == 0 && ModifiedAfterTicks == 0;

    public static SyncFilter Everything { get; } = new();

    /// <summary>Parses every rule; all syntax errors are reported together in one exception.</summary>
    public static SyncFilter Create(IEnumerable<string> excludes, IEnumerable<string> includes, long minSize = -1, long maxSize = -1, TimeSpan? minAge = null, TimeSpan? maxAge = null, DateTimeOffset? now = null)
    {
        var t = (now ?? DateTimeOffset.UtcNow).UtcTicks;
        var f = new SyncFilter
        {
            MinSize = minSize,
            MaxSize = maxSize,
            ModifiedBeforeTicks = minAge is { } a ? t - a.Ticks : 0,
            ModifiedAfterTicks = maxAge is { } b ? t - b.Ticks : 0,
        };
        var errors = new List<string>();
        foreach (var p in excludes)
        {
            Add(f._exclude, p, errors);
        }

        foreach (var p in includes)
        {
            Add(f._include, p, errors);
        }

        if (errors.Count > 0)
        {
            throw new HaulException(ErrorCode.Usage, string.Join("; ", errors), "patterns use * ** ? [abc] {a,b}; see 'haul sync --help'");
        }

        return f;
    }

    /// <summary>Reads a rules file: one pattern per line; blank lines and lines starting with '#' or ';' are skipped.</summary>
    public static IEnumerable<string> ReadRules(string file)
    {
        if (!File.Exists(file))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"filter file not found: {file}", "check the path given to --include-from/--exclude-from");
        }

        foreach (var raw in File.ReadLines(file))
        {
            string line = raw.Trim();
            if (line.Length > 0 && line[0] is not ('#' or ';'))
            {
                yield return line;
            }
        }
    }

    public bool Includes(SyncEntry e)
    {
        if (MinSize >= 0 && e.Size < MinSize)
        {
            return false;
        }

        if (MaxSize >= 0 && e.Size > MaxSize)
        {
            return false;
        }

        if (ModifiedBeforeTicks != 0 && e.MtimeTicks > ModifiedBeforeTicks)
        {
            return false;
        }

        if (ModifiedAfterTicks != 0 && e.MtimeTicks < ModifiedAfterTicks)
        {
            return false;
        }

        return IncludesPath(e.Path);
    }

    public bool IncludesPath(string path)
    {
        foreach (var r in _exclude)
        {
            if (r.IsMatch(path))
            {
                return false;
            }
        }

        if (_include.Count == 0)
        {
            return true;
        }

        foreach (var r in _include)
        {
            if (r.IsMatch(path))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a whole directory can be skipped without listing it (an exclude names it).</summary>
    public bool ExcludesDirectory(string dirPath)
    {
        foreach (var r in _exclude)
        {
            if (r.IsMatch(dirPath + "/"))
            {
                return true;
            }
        }

        return false;
    }

    private static void Add(List<Regex> list, string pattern, List<string> errors)
    {
        try
        {
            list.Add(new Regex(ToRegex(pattern), RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(1)));
        }
        catch (FormatException e)
        {
            errors.Add($"filter '{pattern}': {e.Message}");
        }
        catch (ArgumentException e)
        {
            errors.Add($"filter '{pattern}': {e.Message}");
        }
    }

    /// <summary>Translates a glob to a regex over '/'-separated relative paths.</summary>
    internal static string ToRegex(string glob)
    {
        if (glob.Length == 0)
        {
            throw new FormatException("empty pattern");
        }

        var sb = new StringBuilder();
        string g = glob;
        bool anchored = g.StartsWith('/');
        if (anchored)
        {
            g = g[1..];
        }

        bool dirOnly = g.EndsWith('/');
        if (dirOnly)
        {
            g = g[..^1];
        }

        sb.Append(anchored ? "^" : "(^|/)");
        int braces = 0;
        for (int i = 0; i < g.Length; i++)
        {
            char c = g[i];
            switch (c)
            {
                case '*':
                    if (i + 1 < g.Length && g[i + 1] == '*')
                    {
                        sb.Append(".*");
                        i++;
                    }
                    else
                    {
                        sb.Append("[^/]*");
                    }

                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    int end = g.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        throw new FormatException("'[' without a closing ']'");
                    }

                    string cls = g[(i + 1)..end];
                    if (cls.Length == 0)
                    {
                        throw new FormatException("empty character class '[]'");
                    }

                    sb.Append('[').Append(cls[0] == '!' ? "^" + cls[1..] : cls).Append(']');
                    i = end;
                    break;
                case '{':
                    braces++;
                    sb.Append("(?:");
                    break;
                case '}':
                    if (braces == 0)
                    {
                        throw new FormatException("'}' without an opening '{'");
                    }

                    braces--;
                    sb.Append(')');
                    break;
                case ',' when braces > 0:
                    sb.Append('|');
                    break;
                case '\\' when i + 1 < g.Length:
                    sb.Append(Regex.Escape(g[++i].ToString()));
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        if (braces != 0)
        {
            throw new FormatException("'{' without a closing '}'");
        }

        sb.Append(dirOnly ? "/" : "($|/)");
        return sb.ToString();
    }
}
