namespace Haul.Cli;

/// <summary>A deterministic sample dataset shaped like ML data.</summary>
internal static class SampleData
{
    public static long Create(string root, long targetBytes)
    {
        var rng = new Random(42);
        long total = 0;
        Directory.CreateDirectory(Path.Combine(root, "model"));
        long weights = Math.Max(1 << 20, targetBytes * 6 / 10);
        total += Write(Path.Combine(root, "model", "weights.bin"), weights, rng);
        File.WriteAllText(Path.Combine(root, "model", "config.json"), "{\"layers\": 24, \"hidden\": 1024}\n");
        long images = targetBytes - weights;
        int i = 0;
        while (images > 0)
        {
            string split = (i % 10) < 8 ? "train" : "val";
            string cls = $"class-{i % 7}";
            string d = Path.Combine(root, "images", split, cls);
            Directory.CreateDirectory(d);
            long size = Math.Min(images, 20_000 + rng.Next(0, 600_000));
            total += Write(Path.Combine(d, $"img-{i:D5}.jpg"), size, rng);
            images -= size;
            i++;
        }

        Directory.CreateDirectory(Path.Combine(root, "labels"));
        File.WriteAllText(Path.Combine(root, "labels", "données-été.csv"), "file,label\nimg-00000.jpg,0\n");
        File.WriteAllBytes(Path.Combine(root, "labels", "EMPTY"), []);
        Directory.CreateDirectory(Path.Combine(root, "runs", "empty"));
        return total;
    }

    /// <summary>Overwrites 1 MB in the middle of a file.</summary>
    public static void Touch(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write);
        fs.Position = fs.Length / 2;
        var b = new byte[1_000_000];
        new Random(7).NextBytes(b);
        fs.Write(b);
    }

    private static long Write(string path, long size, Random rng)
    {
        var buf = new byte[1 << 20];
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        long left = size;
        while (left > 0)
        {
            int n = (int)Math.Min(buf.Length, left);
            rng.NextBytes(buf.AsSpan(0, n));
            fs.Write(buf, 0, n);
            left -= n;
        }

        return size;
    }
}
