using System.Security.Cryptography;

namespace Haul.Cli;

/// <summary>Compares two trees: same entries, same kinds, same bytes.</summary>
internal static class TreeCompare
{
    public static (int Files, bool Same) Compare(string a, string b)
    {
        var ea = List(a);
        var eb = List(b);
        if (!ea.SequenceEqual(eb))
        {
            throw new HaulException(ErrorCode.CorruptData, $"trees differ: {string.Join(", ", ea.Except(eb).Concat(eb.Except(ea)).Take(5))}", "report this: the receipt claimed delivery");
        }

        int files = 0;
        foreach (var rel in ea.Where(e => !e.EndsWith('/')))
        {
            files++;
            if (!SameBytes(Path.Combine(a, rel), Path.Combine(b, rel)))
            {
                throw new HaulException(ErrorCode.CorruptData, $"'{rel}' differs", "report this: the receipt claimed delivery");
            }
        }

        return (files, true);
    }

    private static List<string> List(string root)
    {
        var list = new List<string>();
        foreach (var e in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(root, e.FullName);
            list.Add(e is DirectoryInfo ? rel + "/" : rel);
        }

        list.Sort(StringComparer.Ordinal);
        return list;
    }

    private static bool SameBytes(string x, string y)
    {
        var fx = new FileInfo(x);
        var fy = new FileInfo(y);
        if (fx.Length != fy.Length)
        {
            return false;
        }

        using var sx = fx.OpenRead();
        using var sy = fy.OpenRead();
        return SHA256.HashData(sx).AsSpan().SequenceEqual(SHA256.HashData(sy));
    }
}
