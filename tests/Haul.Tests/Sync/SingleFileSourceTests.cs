using Haul.Tests.Support;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Sync;

/// <summary>
/// A single file as the source, as rclone takes one (through the real CLI): copy and sync put it into the
/// destination folder and touch nothing else there; check compares two files; a file where a folder is
/// expected is a one-line error; 'folder add' on a file says what to do instead.
/// </summary>
[Collection("nodes")]
public sealed class SingleFileSourceTests
{
    private static (string Dir, string Out) Tree(TempDir tmp)
    {
        string dir = tmp.Sub("dir");
        string output = tmp.Sub("OUT");
        Directory.CreateDirectory(dir);
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(dir, "f1.txt"), "one");
        File.WriteAllText(Path.Combine(dir, "f2.txt"), "two");
        File.WriteAllText(Path.Combine(output, "keep.txt"), "other");
        return (dir, output);
    }

    [Fact]
    public async Task CopyAndSyncOfAFile_PutItIntoTheFolder_AndSyncDeletesNothingElse()
    {
        using var tmp = new TempDir();
        var (dir, output) = Tree(tmp);
        string home = tmp.Sub("home");

        var copy = await Run(home, "copy", Path.Combine(dir, "f1.txt"), output + "/", "--json");
        Assert.True(copy.Code == 0, copy.Err);
        Assert.Equal(1, Summary(copy.Out).GetProperty("copied").GetInt64());
        Assert.Equal("one", File.ReadAllText(Path.Combine(output, "f1.txt")));
        Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(dir, "f1.txt")), File.GetLastWriteTimeUtc(Path.Combine(output, "f1.txt")));

        // rclone sync of one file is a copy of it: the destination's other files stay.
        var sync = await Run(home, "sync", Path.Combine(dir, "f2.txt"), output, "--json");
        Assert.True(sync.Code == 0, sync.Err);
        Assert.Equal(0, Summary(sync.Out).GetProperty("deleted").GetInt64());
        Assert.Equal(["f1.txt", "f2.txt", "keep.txt"], Files(output));

        var again = await Run(home, "copy", Path.Combine(dir, "f1.txt"), output, "--json");
        Assert.Equal(1, Summary(again.Out).GetProperty("unchanged").GetInt64());

        // A missing destination folder is made.
        var fresh = await Run(home, "copy", Path.Combine(dir, "f1.txt"), tmp.Sub("NEW"));
        Assert.True(fresh.Code == 0, fresh.Err);
        Assert.Equal(["f1.txt"], Files(tmp.Sub("NEW")));
    }

    [Fact]
    public async Task CheckOfTwoFiles_ComparesThem_AndOfAFileAndAFolder_ComparesItsNamesake()
    {
        using var tmp = new TempDir();
        var (dir, output) = Tree(tmp);
        string home = tmp.Sub("home");
        string other = tmp.Sub("other.txt");
        File.WriteAllText(other, "one");

        var same = await Run(home, "check", Path.Combine(dir, "f1.txt"), other);
        Assert.True(same.Code == 0, same.Err);
        Assert.Contains("1 files compared, 0 differences", same.Err);

        File.WriteAllText(other, "uno");
        var differ = await Run(home, "check", Path.Combine(dir, "f1.txt"), other);
        Assert.Equal(22, differ.Code);

        // Against a folder: its f1.txt, and its other files are not "missing on source".
        File.WriteAllText(Path.Combine(output, "f1.txt"), "one");
        File.SetLastWriteTimeUtc(Path.Combine(output, "f1.txt"), File.GetLastWriteTimeUtc(Path.Combine(dir, "f1.txt")));
        var folder = await Run(home, "check", Path.Combine(dir, "f1.txt"), output);
        Assert.True(folder.Code == 0, folder.Err);
    }

    [Fact]
    public async Task AFileWhereAFolderIsExpected_IsOneLineNamingTheFix()
    {
        using var tmp = new TempDir();
        var (dir, _) = Tree(tmp);
        string home = tmp.Sub("home");
        string afile = tmp.Sub("afile");
        File.WriteAllText(afile, "x");

        var fileToFile = await Run(home, "copy", Path.Combine(dir, "f1.txt"), afile);
        Assert.Equal(2, fileToFile.Code);
        Assert.Contains("is a file; copy puts f1.txt into a folder", fileToFile.Err);
        Assert.Equal("x", File.ReadAllText(afile));

        var folderToFile = await Run(home, "sync", dir, afile);
        Assert.Equal(2, folderToFile.Code);
        Assert.Contains("afile is a file, where a folder is expected", folderToFile.Err);

        string blocked = tmp.Sub("blocked");
        Directory.CreateDirectory(Path.Combine(blocked, "f1.txt"));
        var overFolder = await Run(home, "copy", Path.Combine(dir, "f1.txt"), blocked);
        Assert.Equal(2, overFolder.Code);
        Assert.Contains("is a folder, where the file f1.txt would go", overFolder.Err);

        foreach (var r in new[] { fileToFile, folderToFile, overFolder })
        {
            Assert.DoesNotContain("   at ", r.Err);
        }
    }

    [Fact]
    public async Task FolderAddOnAFile_IsRefusedNamingTheFolderAndSend()
    {
        using var tmp = new TempDir();
        var (dir, _) = Tree(tmp);
        string home = tmp.Sub("home");
        Assert.Equal(0, (await Run(home, "init", "--name", "solo")).Code);

        var r = await Run(home, "folder", "add", "data", Path.Combine(dir, "f1.txt"));
        Assert.Equal(2, r.Code);
        Assert.Contains("is a file; a shared folder is a folder", r.Err);
        Assert.Contains("haul send", r.Err);
    }

    [Fact]
    public async Task CopyOfAFileToAPeersFolder_PutsItThere()
    {
        using var tmp = new TempDir();
        var (dir, _) = Tree(tmp);
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = tmp.Sub("owned");
        Directory.CreateDirectory(Path.Combine(owned, "in"));
        File.WriteAllText(Path.Combine(owned, "in", "keep.txt"), "kept");
        Assert.Equal(0, (await Run(pair.B.Home, "folder", "add", "data", owned, "--share", "lab-a:rw")).Code);

        var r = await Run(pair.A.Home, "sync", Path.Combine(dir, "f1.txt"), "lab-b:data/in");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["f1.txt", "keep.txt"], Files(Path.Combine(owned, "in")));
        Assert.Equal("one", File.ReadAllText(Path.Combine(owned, "in", "f1.txt")));
    }
}
