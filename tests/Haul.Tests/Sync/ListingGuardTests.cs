using Haul.Content;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.Sync;

/// <summary>The path rule every listing passes through, and LocalEnd's own refusal of names that could leave its root.</summary>
[Trait("Category", "Unit")]
public sealed class ListingGuardTests
{
    [Fact]
    public async Task Safe_PassesPlainNames_AndReportsEveryOtherOnce()
    {
        string[] hostile = ["a/../b", "../x", "/etc/passwd", "a\0b", "a//b", "./x", "x/.", "dir/", "back\\slash", new string('n', 256), string.Concat(Enumerable.Repeat("d/", 2100)) + "f"];
        var listed = new[] { "ok.bin", "sub/ok2.bin" }.Concat(hostile).Select(p => new SyncEntry(p, 1, 0));
        var refused = new List<string>();
        var kept = new List<string>();
        await foreach (var e in ListingGuard.Safe(ToAsync(listed), (e, _) => refused.Add(e.Path)))
        {
            kept.Add(e.Path);
        }

        Assert.Equal(["ok.bin", "sub/ok2.bin"], kept);
        Assert.Equal(hostile, refused);
    }

    [Fact]
    public void Printable_EscapesControlCharacters_AndCutsLongNames()
    {
        Assert.Equal("a\\x00b\\x0ac", ListingGuard.Printable("a\0b\nc"));
        string shown = ListingGuard.Printable(new string('n', 5000));
        Assert.True(shown.Length < 260, shown);
        Assert.EndsWith("(5000 characters)", shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalEnd_RefusesToWriteOrDeleteANameThatLeavesItsRoot()
    {
        using var tmp = new TempDir();
        await using var end = new LocalEnd(tmp.Sub("root"), null);
        File.WriteAllText(tmp.Sub("victim.txt"), "keep");
        using var content = new MemoryStream("evil"u8.ToArray());
        var w = await Assert.ThrowsAsync<HaulException>(() => end.WriteAsync(new SyncEntry("../escaped.txt", 4, DateTime.UtcNow.Ticks), content, null));
        Assert.Equal(ErrorCode.UnsafePath, w.Code);
        var d = await Assert.ThrowsAsync<HaulException>(() => end.DeleteAsync(new SyncEntry("../victim.txt", 4, 0)));
        Assert.Equal(ErrorCode.UnsafePath, d.Code);
        Assert.False(File.Exists(tmp.Sub("escaped.txt")));
        Assert.Equal("keep", File.ReadAllText(tmp.Sub("victim.txt")));
    }

    private static async IAsyncEnumerable<SyncEntry> ToAsync(IEnumerable<SyncEntry> entries)
    {
        foreach (var e in entries)
        {
            yield return e;
        }

        await Task.CompletedTask;
    }
}
