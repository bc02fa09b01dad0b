using Haul.Content;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.Content;

/// <summary>-L/--copy-links in the two local walks (send's TreeScanner, sync's LocalEnd): links become their targets, loops and special files are skipped and told.</summary>
[Trait("Category", "Unit")]
public sealed class TreeScannerLinkTests
{
    private static string Tree(TempDir tmp)
    {
        string root = tmp.Sub("snap");
        string blobs = tmp.Sub("blobs");
        Directory.CreateDirectory(Path.Combine(root, "d"));
        Directory.CreateDirectory(blobs);
        File.WriteAllText(Path.Combine(blobs, "b1"), "content-one");
        File.CreateSymbolicLink(Path.Combine(root, "f.bin"), "../blobs/b1");
        Directory.CreateSymbolicLink(Path.Combine(root, "d", "loop"), "..");
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), "nowhere");
        return root;
    }

    [Fact]
    public void Scan_WithoutFollowing_RecordsLinks_WithFollowing_SendsTheTargetAsAFile_AndSkipsLoopsAndBrokenLinks()
    {
        using var tmp = new TempDir();
        string root = Tree(tmp);

        var plain = TreeScanner.Scan(root);
        Assert.Equal(EntryKind.Symlink, plain.Manifest.Entries.Single(e => e.Path == "snap/f.bin").Kind);

        var told = new List<string>();
        var followed = TreeScanner.Scan(root, followLinks: true, onSkippedLink: (p, why) => told.Add($"{p}: {why}"));
        var file = followed.Manifest.Entries.Single(e => e.Path == "snap/f.bin");
        Assert.Equal(EntryKind.File, file.Kind);
        Assert.Equal("content-one".Length, file.Size);
        Assert.DoesNotContain(followed.Manifest.Entries, e => e.Kind == EntryKind.Symlink);
        Assert.Contains(told, t => t.StartsWith("snap/d/loop: symlink loop", StringComparison.Ordinal));
        Assert.Contains(told, t => t.StartsWith("snap/dangling: symlink to nothing", StringComparison.Ordinal));
        Assert.Equal(2, followed.SkippedSpecialFiles);
    }

    [Fact]
    public async Task LocalEnd_ListsLinksAsTheirTargets_OnlyWhenFollowing_AndNamesEachSkippedLink()
    {
        using var tmp = new TempDir();
        string root = Tree(tmp);

        var told = new List<string>();
        var plain = new LocalEnd(root, null) { OnSkippedLink = (p, why) => told.Add(p) };
        var listed = new List<string>();
        await foreach (var e in plain.ListAsync(SyncFilter.Everything))
        {
            listed.Add(e.Path);
        }

        Assert.Empty(listed);
        Assert.Equal(3, plain.SkippedLinks);
        Assert.Equal(["d/loop", "dangling", "f.bin"], told.Order(StringComparer.Ordinal));

        var follow = new LocalEnd(root, null) { FollowLinks = true };
        var entries = new List<SyncEntry>();
        await foreach (var e in follow.ListAsync(SyncFilter.Everything))
        {
            entries.Add(e);
        }

        Assert.Equal(["f.bin"], entries.Select(e => e.Path));
        Assert.Equal("content-one".Length, entries[0].Size);
        Assert.Equal(2, follow.SkippedLinks);
        using var s = await follow.OpenReadAsync(entries[0]);
        Assert.Equal("content-one", new StreamReader(s).ReadToEnd());
    }

    [Fact]
    public async Task LocalEnd_RemovesOnlyEmptyRealFolders_DeepestFirst()
    {
        using var tmp = new TempDir();
        string root = tmp.Sub("dst");
        string outside = tmp.Sub("outside");
        Directory.CreateDirectory(Path.Combine(root, "a", "b"));
        Directory.CreateDirectory(Path.Combine(root, "full"));
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(root, "full", "f"), "f");
        Directory.CreateSymbolicLink(Path.Combine(root, "link"), outside);
        var end = new LocalEnd(root, null);

        Assert.Equal(2, await end.RemoveEmptyDirectoriesAsync(["a/b", "a", "full", "link"]));
        Assert.False(Directory.Exists(Path.Combine(root, "a")));
        Assert.True(File.Exists(Path.Combine(root, "full", "f")));
        Assert.True(Directory.Exists(outside));
        Assert.NotNull(new DirectoryInfo(Path.Combine(root, "link")).LinkTarget);
        await Assert.ThrowsAsync<HaulException>(() => end.RemoveEmptyDirectoriesAsync([".."]));
    }
}
