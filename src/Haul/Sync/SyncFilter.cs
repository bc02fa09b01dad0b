using System.Text.RegularExpressions;
using System.Text;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// rclone-style filters. Patterns: '*' any run of characters except '/', '**' any run including '/',
/// '?' one character except '/', '[...]' a class, '{a,b}' alternatives; a leading '/' anchors the
/// pattern at the root of the transfer, otherwise it matches the end of the path (so '*.tmp' excludes
/// every .tmp file at any depth); a trailing '/' matches everything under a directory of that name.
/// Rules are checked in order and the first that matches decides: every --exclude, then every
/// --include, then the --filter rules ("+ pattern" / "- pattern") as given; a path no rule matches is
/// left out when any --include was given, else kept (rclone's implicit "- **" after includes).
/// --files-from names the only files that may pass at all. Size and age limits apply to files;
/// directories are never filtered by them.
/// </summary>
internal sealed class SyncFilter
{
    // In the order they are checked; Include false: an exclude rule.
    private readonly List<(Regex Pattern, bool Include)> _rules = [];
    private bool _excludeUnmatched;
    private HashSet<string>? _files;
    private HashSet<string>? _fileDirs;

    public long MinSize { get; init; } = -1;

    public long MaxSize { get; init; } = -1;

    /// <summary>Files modified more recently than this are left out (UTC ticks; 0 = no limit).</summary>
    public long ModifiedBeforeTicks { get; init; }

    /// <summary>Files modified longer ago than this are left out (UTC ticks; 0 = no limit).</summary>
    public long ModifiedAfterTicks { get; init; }

    public bool IsEmpty => _rules.Count == 0 && _files is null && MinSize < 0 && MaxSize < 0 && ModifiedBeforeTicks == 0 && ModifiedAfterTicks == 0;

    public static SyncFilter Everything { get; } = new();

    /// <summary>Parses every rule; all syntax errors are reported together in one exception.</summary>
    /// <param name="rules">--filter rules in order, each "+ pattern" or "- pattern", checked after the excludes and includes.</param>
    /// <param name="files">--files-from: the only file paths that may pass (checked relative paths); null: no such limit.</param>
    public static SyncFilter Create(IEnumerable<string> excludes, IEnumerable<string> includes, long minSize = -1, long maxSize = -1, TimeSpan? minAge = null, TimeSpan? maxAge = null, DateTimeOffset? now = null, IEnumerable<string>? rules = null, IReadOnlyCollection<string>? files = null)
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
            f.Add(p, include: false, errors);
        }

        foreach (var p in includes)
        {
            f.Add(p, include: true, errors);
            f._excludeUnmatched = true;
        }

        foreach (var r in rules ?? [])
        {
            if (ParseRule(r) is { } rule)
            {
                f.Add(rule.Pattern, rule.Include, errors);
            }
            else
            {
                errors.Add($"filter rule '{r}' does not start with '+ ' or '- '");
            }
        }

        if (files is not null)
        {
            f._files = new HashSet<string>(files, StringComparer.Ordinal);
            f._fileDirs = new HashSet<string>(StringComparer.Ordinal);
            foreach (var path in f._files)
            {
                for (int slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1))
                {
                    f._fileDirs.Add(path[..slash]);
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new HaulException(ErrorCode.Usage, string.Join("; ", errors), "patterns use * ** ? [abc] {a,b}; see 'haul sync --help'");
        }

        return f;
    }

    /// <summary>An rclone filter rule ("+ pattern" includes, "- pattern" excludes); null when it is neither.</summary>
    public static (string Pattern, bool Include)? ParseRule(string rule) =>
        rule.Length > 2 && rule[1] == ' ' && rule[0] is '+' or '-' ? (rule[2..].TrimStart(), rule[0] == '+') : null;

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
        if (_files is not null && !_files.Contains(path))
        {
            return false;
        }

        foreach (var (r, include) in _rules)
        {
            if (r.IsMatch(path))
            {
                return include;
            }
        }

        return !_excludeUnmatched;
    }

    /// <summary>
    /// Whether a whole directory can be skipped without listing it: no --files-from path lies under it, or
    /// an exclude rule names it before any include rule could let something under it back in.
    /// </summary>
    public bool ExcludesDirectory(string dirPath)
    {
        if (_fileDirs is not null && !_fileDirs.Contains(dirPath))
        {
            return true;
        }

        foreach (var (r, include) in _rules)
        {
            if (include)
            {
                return false;
            }

            if (r.IsMatch(dirPath + "/"))
            {
                return true;
            }
        }

        return false;
    }

    private void Add(string pattern, bool include, List<string> errors)
    {
        try
        {
            _rules.Add((new Regex(ToRegex(pattern), RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(1)), include));
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
