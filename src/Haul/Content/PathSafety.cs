namespace Haul.Content;

/// <summary>
/// Rules for paths that arrive from a peer. A manifest path may never leave the directory it is
/// written under: no absolute paths, no "..", no empty or "." components, no NUL.
/// </summary>
internal static class PathSafety
{
    public const int MaxPathBytes = 4096;
    public const int MaxComponentBytes = 255;

    public static bool IsSafeRelative(string path, out string reason)
    {
        reason = string.Empty;
        if (path.Length == 0)
        {
            reason = "empty path";
            return false;
        }

        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            reason = "path too long";
            return false;
        }

        if (path[0] == '/' || path.Contains('\0', StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            reason = "absolute path or forbidden character";
            return false;
        }

        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == "..")
            {
                reason = $"forbidden component '{part}'";
                return false;
            }

            if (System.Text.Encoding.UTF8.GetByteCount(part) > MaxComponentBytes)
            {
                reason = "name too long";
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when a symlink at <paramref name="linkPath"/> pointing at <paramref name="target"/> resolves
    /// inside the tree's top-level entry (both relative to the root), whatever else is or becomes a
    /// symlink. ".." may only lead the target: after a name, ".." goes back up from wherever that name
    /// resolves, which is not where it stands when the name is itself a link ("s -> ." and
    /// "l -> s/s/../../x" climb two levels more than they appear to). Leading ".." climbs through the
    /// link's own parents, which placement keeps real directories; every name after them is a real
    /// directory or a link held to this same rule, so the whole path stays inside.
    /// </summary>
    public static bool SymlinkStaysInside(string linkPath, string target)
    {
        if (target.Length == 0 || target[0] == '/' || target.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        var stack = new List<string>(linkPath.Split('/'));
        stack.RemoveAt(stack.Count - 1);
        bool descended = false;
        foreach (var part in target.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                // Leaving the top-level entry would reach the inbox and other peers' or sends' files.
                if (descended || stack.Count <= 1)
                {
                    return false;
                }

                stack.RemoveAt(stack.Count - 1);
            }
            else
            {
                descended = true;
                stack.Add(part);
            }
        }

        return stack.Count >= 1;
    }
}
