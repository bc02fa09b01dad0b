using System.Security.Cryptography;

namespace Haul.Tests.Support;

/// <summary>Builds test trees and compares trees the way rsync -a would: entries, kinds, bytes, modes, mtimes, link targets.</summary>
internal static class Trees
{
    public static void WriteRandom(string path, long size, int seed)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var rng = new Random(seed);
        var buf = new byte[1 << 20];
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        for (long left = size; left > 0;)
        {
            int n = (int)Math.Min(buf.Length, left);
            rng.NextBytes(buf.AsSpan(0, n));
            fs.Write(buf, 0, n);
            left -= n;
        }
    }

    /// <summary>Nested folders, empty files and folders, unicode names, a 0-byte file, a symlink inside the tree, random files.</summary>
    public static string Mixed(string root, string name = "dataset", int files = 40, int maxSize = 300_000)
    {
        string top = System.IO.Path.Combine(root, name);
        var rng = new Random(11);
        for (int i = 0; i < files; i++)
        {
            string dir = System.IO.Path.Combine(top, $"split-{i % 3}", $"class-{i % 5}");
            WriteRandom(System.IO.Path.Combine(dir, $"item-{i:D3}.bin"), rng.Next(0, maxSize), i);
        }

        WriteRandom(System.IO.Path.Combine(top, "données", "été ☀ 日本.csv"), 5000, 99);
        File.WriteAllBytes(System.IO.Path.Combine(top, "zero-bytes"), []);
        Directory.CreateDirectory(System.IO.Path.Combine(top, "empty", "nested-empty"));
        File.CreateSymbolicLink(System.IO.Path.Combine(top, "latest.csv"), "données/été ☀ 日本.csv");
        File.SetUnixFileMode(System.IO.Path.Combine(top, "zero-bytes"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // Duplicate content in two places: sent once, written twice.
        File.Copy(System.IO.Path.Combine(top, "split-0", "class-0", "item-000.bin"), System.IO.Path.Combine(top, "copy-of-item-000.bin"));
        return top;
    }

    public static void AssertSame(string expected, string actual)
    {
        var a = List(expected);
        var b = List(actual);
        Assert.Equal(a.Keys.Order(StringComparer.Ordinal), b.Keys.Order(StringComparer.Ordinal));
        foreach (var (rel, ea) in a)
        {
            var eb = b[rel];
            Assert.Equal(ea.Kind, eb.Kind);
            if (ea.Kind == 'f')
            {
                Assert.True(SameBytes(System.IO.Path.Combine(expected, rel), System.IO.Path.Combine(actual, rel)), $"'{rel}' differs");
                Assert.Equal(ea.Mode, eb.Mode);
                Assert.Equal(ea.Mtime, eb.Mtime);
            }
            else if (ea.Kind == 'l')
            {
                Assert.Equal(ea.Target, eb.Target);
            }
        }
    }

    private static Dictionary<string, (char Kind, UnixFileMode Mode, DateTime Mtime, string? Target)> List(string root)
    {
        var d = new Dictionary<string, (char, UnixFileMode, DateTime, string?)>(StringComparer.Ordinal);
        foreach (var e in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            string rel = System.IO.Path.GetRelativePath(root, e.FullName);
            if (e.LinkTarget is not null)
            {
                d[rel] = ('l', 0, default, e.LinkTarget);
            }
            else if (e is DirectoryInfo)
            {
                d[rel] = ('d', 0, default, null);
            }
            else
            {
                d[rel] = ('f', e.UnixFileMode, e.LastWriteTimeUtc, null);
            }
        }

        return d;
    }

    public static bool SameBytes(string x, string y)
    {
        using var a = new FileStream(x, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var b = new FileStream(y, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        if (a.Length != b.Length)
        {
            return false;
        }

        var ba = new byte[4 << 20];
        var bb = new byte[4 << 20];
        while (true)
        {
            int na = a.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            int nb = b.ReadAtLeast(bb, bb.Length, throwOnEndOfStream: false);
            if (na != nb || !ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb)))
            {
                return false;
            }

            if (na == 0)
            {
                return true;
            }
        }
    }

    public static string Sha(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(s));
    }
}
