using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// rclone's --files-from list: one path a line, relative to the source's root; blank lines and lines
/// starting with '#' or ';' are skipped, surrounding spaces trimmed, and a leading "/" or "./" and a
/// trailing "/" dropped (so the output of 'find . -type f' works as it is). A job or API caller may name
/// any file the node can read, so the file is bounded before it is read, every path is checked like a
/// name a peer sends (no "..", no empty or "." part, no NUL or backslash, length limits), and an error
/// names the file and line, never the line's text.
/// </summary>
internal static class FilesFrom
{
    public const int MaxBytes = 64 << 20;
    public const int MaxPaths = 1_000_000;

    public static List<string> Read(string file)
    {
        if (!File.Exists(file) || Native.IsSpecialFile(file))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"--files-from file not found: {Security.Printable.Of(file, 200)}", "name a regular file with one path a line");
        }

        byte[] bytes;
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            // Read at most one byte past the limit: a device or a growing file reports no honest length.
            bytes = new byte[Math.Min(MaxBytes + 1L, Math.Max(fs.CanSeek ? fs.Length : 0, 4096) + 1)];
            int n = 0;
            while (true)
            {
                if (n == bytes.Length)
                {
                    if (bytes.Length > MaxBytes)
                    {
                        throw TooBig(file);
                    }

                    Array.Resize(ref bytes, (int)Math.Min(MaxBytes + 1L, bytes.Length * 2L));
                }

                int r = fs.Read(bytes, n, bytes.Length - n);
                if (r == 0)
                {
                    break;
                }

                n += r;
            }

            Array.Resize(ref bytes, n);
        }

        return Parse(System.Text.Encoding.UTF8.GetString(bytes), file);
    }

    internal static List<string> Parse(string text, string file)
    {
        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int line = 0;
        foreach (var raw in text.Split('\n'))
        {
            line++;
            string p = raw.Trim();
            if (p.Length == 0 || p[0] is '#' or ';')
            {
                continue;
            }

            while (p.StartsWith("./", StringComparison.Ordinal) || p.StartsWith('/'))
            {
                p = p[(p[0] == '/' ? 1 : 2)..];
            }

            p = p.TrimEnd('/');
            if (!PathSafety.IsSafeRelative(p, out string why))
            {
                throw new HaulException(ErrorCode.UnsafePath, $"--files-from {Security.Printable.Of(file, 200)}: line {line} is not a path inside the source ({why})", "write each path relative to the source's root, without '..'");
            }

            if (seen.Add(p))
            {
                if (paths.Count == MaxPaths)
                {
                    throw new HaulException(ErrorCode.Usage, $"--files-from {Security.Printable.Of(file, 200)} names more than {MaxPaths:N0} paths", "split the list into several runs, or use --include patterns");
                }

                paths.Add(p);
            }
        }

        return paths;
    }

    private static HaulException TooBig(string file) =>
        new(ErrorCode.Usage, $"--files-from {Security.Printable.Of(file, 200)} is larger than {MaxBytes >> 20} MB", "split the list into several runs, or use --include patterns");
}
