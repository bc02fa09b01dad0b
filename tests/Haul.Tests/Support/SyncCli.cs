using System.Text.Json;

namespace Haul.Tests.Support;

/// <summary>Helpers for the sync tests: run the real CLI with a home, read its JSON summary, list a tree.</summary>
internal static class SyncCli
{
    public static async Task<(int Code, string Out, string Err)> Run(string home, params string[] args) =>
        await HaulProcess.RunAsync(["--home", home, .. args]);

    public static JsonElement Summary(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).Single(j => j.GetProperty("type").GetString() == "summary");

    /// <summary>Regular files under <paramref name="root"/> (symlinks left out), relative, in ordinal order; none if it is missing.</summary>
    public static List<string> Files(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => !new FileInfo(f).Attributes.HasFlag(FileAttributes.ReparsePoint)).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToList()
            : [];
}
