using Haul.Content;
using Haul.Node;
using Haul.Sync;
using Haul.Tests.Support;
using static Haul.Tests.Support.SyncCli;

namespace Haul.Tests.Sync;

/// <summary>
/// copy, sync and check against a real peer's shared folder: lab-b serves and owns the folder, lab-a runs
/// the real CLI binary. Data crosses real TLS and UDP sockets as ordinary Haul transfers.
/// </summary>
[Collection("nodes")]
public sealed class PeerSyncTests
{
    private static async Task<string> ShareAsync(NodePair pair, TempDir tmp, string access)
    {
        string dir = tmp.Sub("owned");
        Directory.CreateDirectory(dir);
        var r = await Run(pair.B.Home, "folder", "add", "data", dir, "--share", "lab-a:" + access);
        Assert.True(r.Code == 0, r.Err);
        return dir;
    }

    private static void AssertMirrored(string src, string dst)
    {
        var expected = Files(src);
        Assert.Equal(expected, Files(dst));
        foreach (var rel in expected)
        {
            Assert.True(Trees.SameBytes(Path.Combine(src, rel), Path.Combine(dst, rel)), rel);
            Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(src, rel)), File.GetLastWriteTimeUtc(Path.Combine(dst, rel)));
        }
    }

    [Fact]
    public async Task APushThatLands_RemovesTheTemporaryFoldersOfEarlierInterruptedSyncs_ButAnInboxKeepsItsOwn()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        // What a sync killed mid-way leaves: its manifest named that run's files, so no later sync resumes it.
        string stale = Path.Combine(owned, "train", ".haul-partial", "0123456789abcdef");
        Directory.CreateDirectory(stale);
        File.WriteAllBytes(Path.Combine(stale, "0"), new byte[4096]);
        string inboxStale = Path.Combine(pair.B.Inbox, "lab-a", ".haul-partial", "fedcba9876543210");
        Directory.CreateDirectory(inboxStale);
        string src = Trees.Mixed(tmp.Path, "src", files: 5);

        var r = await Run(pair.A.Home, "sync", src, "lab-b:data/train");
        Assert.True(r.Code == 0, r.Err);
        await pair.A.Node.SendAsync(src, "lab-b");

        Assert.False(Directory.Exists(Path.Combine(owned, "train", ".haul-partial")), "an abandoned sync's partial folder is removed once a sync lands");
        Assert.True(Directory.Exists(inboxStale), "an inbox send's partial folder is kept for the same send to resume");

        // A run killed after its last file was placed leaves a partial folder and nothing to send: the
        // next run transfers nothing, and its clean end removes it.
        Directory.CreateDirectory(stale);
        r = await Run(pair.A.Home, "sync", src, "lab-b:data/train");
        Assert.True(r.Code == 0, r.Err);
        for (int i = 0; i < 50 && Directory.Exists(stale); i++)
        {
            await Task.Delay(100); // the owner handles the BYE after the client has exited
        }

        Assert.False(Directory.Exists(stale), "a sync with nothing to send still ends with no abandoned partial folder");
    }

    [Fact]
    public async Task Push_WithFilesFromAndDeleteExcluded_LeavesThePeersFolderHoldingOnlyTheList_AndVerboseNamesEachFile()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        string src = tmp.Sub("src");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 5_000, 1);
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 5_000, 2);
        Trees.WriteRandom(Path.Combine(src, "deep", "c.bin"), 5_000, 3);
        Trees.WriteRandom(Path.Combine(owned, "train", "old.bin"), 5_000, 4);
        File.WriteAllLines(tmp.Sub("list"), ["a.bin", "deep/c.bin"]);

        var kept = await Run(pair.A.Home, "sync", src, "lab-b:data/train", "--files-from", tmp.Sub("list"), "-v");
        Assert.True(kept.Code == 0, kept.Err);
        Assert.Equal(["a.bin", "deep/c.bin", "old.bin"], Files(Path.Combine(owned, "train")));
        Assert.Equal(3, kept.Err.Trim().Split('\n').Length); // two "copied" lines and the summary

        var r = await Run(pair.A.Home, "sync", src, "lab-b:data/train", "--files-from", tmp.Sub("list"), "--delete-excluded", "-v");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["a.bin", "deep/c.bin"], Files(Path.Combine(owned, "train")));
        Assert.Contains("old.bin", r.Err, StringComparison.Ordinal);
        Assert.True(Trees.SameBytes(Path.Combine(src, "deep", "c.bin"), Path.Combine(owned, "train", "deep", "c.bin")));
    }

    [Fact]
    public async Task Push_MirrorsIntoThePeersFolder_ResendsOnlyChangedChunks_AndDeletesLast()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        string src = Trees.Mixed(tmp.Path, "src", files: 30);
        Trees.WriteRandom(Path.Combine(src, "weights.bin"), 12 << 20, 7);

        var first = await Run(pair.A.Home, "sync", src, "lab-b:data/train", "--json");
        Assert.True(first.Code == 0, first.Err);
        AssertMirrored(src, Path.Combine(owned, "train"));

        var again = await Run(pair.A.Home, "sync", src, "lab-b:data/train", "--json");
        Assert.Equal(0, again.Code);
        Assert.Equal(0, Summary(again.Out).GetProperty("copied").GetInt64());
        Assert.Equal(0, Summary(again.Out).GetProperty("sentBytes").GetInt64());

        // One byte inserted at the front of a 12 MiB file: content-defined chunks resync after the
        // first, so only a chunk or two crosses (the old version on the owner supplies the rest).
        string w = Path.Combine(src, "weights.bin");
        var bytes = File.ReadAllBytes(w);
        File.WriteAllBytes(w, [0x42, .. bytes]);
        File.Delete(Path.Combine(src, "split-1", "class-1", "item-001.bin"));
        var delta = await Run(pair.A.Home, "sync", src, "lab-b:data/train", "--json");
        Assert.True(delta.Code == 0, delta.Err);
        var s = Summary(delta.Out);
        Assert.Equal(1, s.GetProperty("copied").GetInt64());
        Assert.Equal(1, s.GetProperty("deleted").GetInt64());
        Assert.InRange(s.GetProperty("sentBytes").GetInt64(), 1, 6L << 20);
        AssertMirrored(src, Path.Combine(owned, "train"));
        Assert.False(Directory.Exists(Path.Combine(owned, "train", ".haul-partial")) && Directory.EnumerateFileSystemEntries(Path.Combine(owned, "train", ".haul-partial")).Any());
    }

    [Fact]
    public async Task APushIntoANewTarget_StartsItsDataWithTheOffer_ADeltaDoesNot()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        string src = Trees.Mixed(tmp.Path, "src", files: 30);
        static SyncEntry Entry(string root, string rel) => new(rel, new FileInfo(Path.Combine(root, rel)).Length, 0);

        // The target does not exist: every file is new, so the push proposes its session with the
        // OFFER and the owner (finding the target absent) takes it.
        await using (var end = await PeerEnd.OpenAsync(pair.A.Home, "lab-b", "data/new", write: true, "lab-b:data/new", CancellationToken.None))
        {
            var r = await end.PushAsync(new LocalEnd(src, null), Files(src).Select(f => Entry(src, f)).ToList(), CancellationToken.None);
            Assert.True(r.ProposedSession, "a push into a new target starts its data with the OFFER");
        }

        AssertMirrored(src, Path.Combine(owned, "new"));

        // Now the target exists: a changed file is a delta, and its data waits for the owner's plan.
        string changed = Files(src).First(f => new FileInfo(Path.Combine(src, f)).Length > 0);
        Trees.WriteRandom(Path.Combine(src, changed), 20_000, 9);
        await using (var end = await PeerEnd.OpenAsync(pair.A.Home, "lab-b", "data/new", write: true, "lab-b:data/new", CancellationToken.None))
        {
            var r = await end.PushAsync(new LocalEnd(src, null), [Entry(src, changed)], CancellationToken.None);
            Assert.False(r.ProposedSession, "a push into an existing target proposes nothing");
            Assert.False(r.EarlyStart, "the owner does not answer a delta early");
        }

        Assert.True(Trees.SameBytes(Path.Combine(src, changed), Path.Combine(owned, "new", changed)));
    }

    [Fact]
    public async Task RenamedOrMovedFiles_AreRebuiltFromTheirOldCopies_BothWays()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        string src = tmp.Sub("src");
        Trees.WriteRandom(Path.Combine(src, "ckpt", "step-100.bin"), 8 << 20, 5);
        Assert.Equal(0, (await Run(pair.A.Home, "sync", src, "lab-b:data/run")).Code);

        // Moved into another folder and renamed: a new path plus a deletion, nothing new to send.
        Directory.CreateDirectory(Path.Combine(src, "archive"));
        File.Move(Path.Combine(src, "ckpt", "step-100.bin"), Path.Combine(src, "archive", "best.bin"));
        var push = await Run(pair.A.Home, "sync", src, "lab-b:data/run", "--json");
        Assert.True(push.Code == 0, push.Err);
        Assert.InRange(Summary(push.Out).GetProperty("sentBytes").GetInt64(), 0, 64 * 1024);
        AssertMirrored(src, Path.Combine(owned, "run"));

        // And a pull: the owner renames, the local copy is rebuilt from the local old file.
        string local = tmp.Sub("local");
        Assert.Equal(0, (await Run(pair.A.Home, "sync", "lab-b:data/run", local)).Code);
        File.Move(Path.Combine(owned, "run", "archive", "best.bin"), Path.Combine(owned, "run", "final.bin"));
        var pull = await Run(pair.A.Home, "sync", "lab-b:data/run", local);
        Assert.True(pull.Code == 0, pull.Err);
        AssertMirrored(Path.Combine(owned, "run"), local);
        Assert.True(pair.B.Logs.Contains("pulled 1 files (8388608 bytes, 0 sent after reuse)"), string.Join('\n', pair.B.Logs.Lines));
    }

    [Fact]
    public async Task Pull_And_Check_WorkOnAReadOnlyShare_ButItRefusesWrites()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "ro");
        string models = Trees.Mixed(owned, "models", files: 20);
        string local = tmp.Sub("local-models");

        var pull = await Run(pair.A.Home, "sync", "lab-b:data/models", local);
        Assert.True(pull.Code == 0, pull.Err);
        AssertMirrored(models, local);

        Assert.Equal(0, (await Run(pair.A.Home, "check", local, "lab-b:data/models")).Code);
        File.AppendAllText(Path.Combine(models, "données", "été ☀ 日本.csv"), "changed on the owner");
        var check = await Run(pair.A.Home, "check", local, "lab-b:data/models");
        Assert.Equal((int)ErrorCode.Differences, check.Code);
        Assert.Contains("été ☀ 日本.csv", check.Out + check.Err);

        // Read-only: a push is refused by the owner and nothing there changes.
        var before = Files(models);
        File.WriteAllText(Path.Combine(local, "new.txt"), "x");
        var push = await Run(pair.A.Home, "sync", local, "lab-b:data/models");
        Assert.Equal((int)ErrorCode.PermissionDenied, push.Code);
        Assert.Contains("read-only", push.Err);
        Assert.Single(push.Err.Trim().Split('\n'));
        Assert.Equal(before, Files(models));
    }

    [Fact]
    public async Task BadRemotes_FailClearly_AndNothingIsDeleted()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        Trees.WriteRandom(Path.Combine(owned, "keep", "a.bin"), 1000, 1);
        string empty = tmp.Sub("empty");
        Directory.CreateDirectory(empty);

        var unknownFolder = await Run(pair.A.Home, "sync", empty, "lab-b:nope/x");
        Assert.Equal((int)ErrorCode.UnknownFolder, unknownFolder.Code);
        Assert.Contains("haul folder add nope", unknownFolder.Err);

        var unknownPeer = await Run(pair.A.Home, "sync", empty, "lab-z:data");
        Assert.Equal((int)ErrorCode.UnknownPeer, unknownPeer.Code);

        var escape = await Run(pair.A.Home, "sync", empty, "lab-b:data/../etc");
        Assert.Equal((int)ErrorCode.UnsafePath, escape.Code);

        // An empty source would delete everything: --max-delete refuses it and keeps the files.
        var tooMany = await Run(pair.A.Home, "sync", empty, "lab-b:data/keep", "--max-delete", "0");
        Assert.Equal((int)ErrorCode.SyncIncomplete, tooMany.Code);
        Assert.True(File.Exists(Path.Combine(owned, "keep", "a.bin")));

        // Revoked: the same folder is now invisible to lab-a.
        Assert.Equal(0, (await Run(pair.B.Home, "folder", "share", "data", "lab-a:none")).Code);
        var revoked = await Run(pair.A.Home, "copy", "lab-b:data/keep", tmp.Sub("out"));
        Assert.Equal((int)ErrorCode.UnknownFolder, revoked.Code);
        Assert.False(Directory.Exists(tmp.Sub("out")) && Directory.EnumerateFileSystemEntries(tmp.Sub("out")).Any());
    }

    [Fact]
    public async Task BackupDir_OnThePeer_KeepsWhatSyncOverwritesOrDeletes()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string owned = await ShareAsync(pair, tmp, "rw");
        string src = tmp.Sub("src");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 300_000, 1);
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 2000, 2);
        Assert.Equal(0, (await Run(pair.A.Home, "sync", src, "lab-b:data/live")).Code);
        string oldA = Trees.Sha(Path.Combine(owned, "live", "a.bin"));
        string oldB = Trees.Sha(Path.Combine(owned, "live", "b.bin"));

        Trees.WriteRandom(Path.Combine(src, "a.bin"), 300_001, 3);
        File.Delete(Path.Combine(src, "b.bin"));
        var r = await Run(pair.A.Home, "sync", src, "lab-b:data/live", "--backup-dir", "lab-b:data/old");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(oldA, Trees.Sha(Path.Combine(owned, "old", "a.bin")));
        Assert.Equal(oldB, Trees.Sha(Path.Combine(owned, "old", "b.bin")));
        Assert.False(File.Exists(Path.Combine(owned, "live", "b.bin")));
        Assert.True(Trees.SameBytes(Path.Combine(src, "a.bin"), Path.Combine(owned, "live", "a.bin")));

        var outside = await Run(pair.A.Home, "sync", src, "lab-b:data/live", "--backup-dir", tmp.Sub("elsewhere"));
        Assert.Equal((int)ErrorCode.Usage, outside.Code);
    }
}
