using System.Collections.Concurrent;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;
using Haul.Tests.Support;
using Haul.Transfer;

namespace Haul.Tests.Node;

/// <summary>
/// A paired, authenticated peer attacks the receiving node's disk path with hand-made manifests and
/// frames (real nodes, real sockets, real files): chunk reuse from data it may not read, two transfers
/// of one manifest at once, symlinks that climb through links, special mode bits, a disk filler, and
/// the order of flushes, renames and the signed receipt.
/// </summary>
[Collection("nodes")]
public sealed class HostileReceiveTests
{
    private static readonly UnixFileMode Rw = (UnixFileMode)0x1A4;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AChunkInAnotherPeersInbox_IsNotRebuiltForAPeerThatOnlyKnowsItsHash(bool intoSharedFolder)
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        await using var c = TestNode.Create(tmp.Path, "lab-c");
        await b.PairWith(c);
        string drop = tmp.Sub("drop");
        Directory.CreateDirectory(drop);
        b.Node.Store.SetFolder("drop", drop);
        b.Node.Store.SetShare("drop", a.Node.Identity.Id, Haul.State.ShareAccess.ReadWrite);

        // lab-c sends lab-b a secret; lab-a learns its chunk hashes (not its bytes) somehow.
        Trees.WriteRandom(tmp.Sub("c-src/secret/plan.bin"), 200_000, 42);
        await c.Node.SendAsync(tmp.Sub("c-src/secret"), "lab-b");
        var chunks = FileChunker.Chunk(tmp.Sub("c-src/secret/plan.bin"), 200_000, new FastCdc()).ToArray();
        await TrustAndSafetyTests.WaitFor(() => b.Node.ChunkCache.Locate([chunks[0].Hash]).Count > 0); // lab-b's index knows where it is

        string name = intoSharedFolder ? "stolen.bin" : "loot/stolen.bin";
        var entries = new List<ManifestEntry>();
        if (!intoSharedFolder)
        {
            entries.Add(new ManifestEntry("loot", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null));
        }

        entries.Add(new ManifestEntry(name, EntryKind.File, Rw, 0, 200_000, [.. Enumerable.Range(0, chunks.Length)], null));
        var manifest = ManifestCodec.Create(entries, chunks);

        await using var conn = await Connect(a, b);
        if (intoSharedFolder)
        {
            await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("drop", string.Empty, true).Encode());
            await conn.Channel.ExpectAsync(FrameType.FolderOk);
        }

        var reply = await OfferAsync(conn, manifest);

        // Every chunk is asked for over the wire: this hostile sender cannot supply a single byte of it.
        Assert.Equal(FrameType.Accept, reply.Type);
        var accept = Messages.Accept.Decode(reply.Payload, chunks.Length);
        Assert.Equal(0, accept.ReusedBytes);
        Assert.Equal(chunks.Length, accept.Need.Sum(n => n.Count));
        Assert.False(File.Exists(Path.Combine(drop, "stolen.bin")));
        Assert.False(File.Exists(Path.Combine(b.Inbox, "lab-a", "loot", "stolen.bin")));
    }

    [Fact]
    public async Task AChunkInAFolderSharedWithThePeer_IsStillReused()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string pub = tmp.Sub("pub");
        Trees.WriteRandom(Path.Combine(pub, "weights.bin"), 3_000_000, 5);
        b.Node.Store.SetFolder("pub", pub);
        b.Node.Store.SetShare("pub", a.Node.Identity.Id, Haul.State.ShareAccess.ReadOnly);
        // lab-b indexes its own folder (as a listing or pull of it would).
        b.Node.ChunkCache.ChunkFile(Path.Combine(pub, "weights.bin"), 3_000_000, new FastCdc());
        b.Node.ChunkCache.Flush();

        Directory.CreateDirectory(tmp.Sub("src/copy"));
        File.Copy(Path.Combine(pub, "weights.bin"), tmp.Sub("src/copy/w.bin"));
        var r = await a.Node.SendAsync(tmp.Sub("src/copy"), "lab-b");

        Assert.Equal(0, r.ChunkBytesSent);
        Assert.True(Trees.SameBytes(tmp.Sub("src/copy/w.bin"), pair.Landed("copy/w.bin")));
    }

    [Fact]
    public async Task ASecondOfferOfTheSameManifest_IsRefusedWhileTheFirstRuns_AndTheRetryLandsTheRightBytes()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = tmp.Sub("src/ds");
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 6_000_000, 3);
        var manifest = TreeScanner.Scan(src).Manifest;

        await using (var first = await Connect(a, b))
        {
            Assert.Equal(FrameType.Accept, (await OfferAsync(first, manifest)).Type);

            // The first transfer holds the partial folder and journal row: a second one is told so at once.
            await using var second = await Connect(a, b);
            var ex = await Assert.ThrowsAsync<HaulException>(() => OfferAsync(second, manifest));
            Assert.Equal(ErrorCode.TransferBusy, ex.Code);
            await TrustAndSafetyTests.WaitFor(() => b.Logs.Contains("already being received"));
        }

        // Once the first is gone, the same send goes through and what lands is the sent file.
        await SendRetryingWhileBusy(a, src);
        Assert.True(Trees.SameBytes(Path.Combine(src, "big.bin"), pair.Landed("ds/big.bin")));
    }

    [Fact]
    public async Task TwoSendsOfTheSameTreeAtOnce_EitherBothLandItOrOneIsRefused_NeverAReceiptForWrongBytes()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = tmp.Sub("src/ds");
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 24_000_000, 9);
        Trees.WriteRandom(Path.Combine(src, "small.bin"), 100_000, 10);

        var sends = new[] { a.Node.SendAsync(src, "lab-b"), a.Node.SendAsync(src, "lab-b") };
        int landed = 0;
        foreach (var s in sends)
        {
            try
            {
                await s; // a receipt the sender verified
                landed++;
            }
            catch (HaulException ex) when (ex.Code == ErrorCode.TransferBusy)
            {
            }
        }

        Assert.True(landed >= 1);
        Trees.AssertSame(src, pair.Landed("ds"));
        Assert.False(Directory.Exists(Path.Combine(b.Inbox, "lab-a", ".haul-partial")) && Directory.EnumerateFiles(Path.Combine(b.Inbox, "lab-a", ".haul-partial"), "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task ASymlinkThatClimbsThroughAnotherLinkInTheManifest_IsRefused()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        // Lexically "t/l" -> "s/s/../../x" is t/x; with t/s -> "." it is two levels above t.
        var manifest = ManifestCodec.Create(
            [
                new ManifestEntry("t", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null),
                new ManifestEntry("t/s", EntryKind.Symlink, (UnixFileMode)0x1FF, 0, 0, [], "."),
                new ManifestEntry("t/l", EntryKind.Symlink, (UnixFileMode)0x1FF, 0, 0, [], "s/s/../../x"),
            ],
            []);

        await using var conn = await Connect(a, b);
        var ex = await Assert.ThrowsAsync<HaulException>(() => OfferAsync(conn, manifest));

        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        Assert.False(Directory.Exists(Path.Combine(b.Inbox, "lab-a", "t")));
    }

    [Fact]
    public async Task AFileReachedThroughASymlinkedFolder_IsNotTakenAsInPlace_AndTheFileOutsideKeepsItsMode()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        var mtime = new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);

        // Outside lab-a's inbox: a file the attacker knows the size and mtime of.
        string victim = tmp.Sub("outside/victim.bin");
        Trees.WriteRandom(victim, 1000, 1);
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetLastWriteTimeUtc(victim, mtime);
        byte[] before = File.ReadAllBytes(victim);

        // In the inbox, a link an earlier transfer left (under the old lexical rule) leading there.
        Directory.CreateDirectory(Path.Combine(b.Inbox, "lab-a", "t"));
        Directory.CreateSymbolicLink(Path.Combine(b.Inbox, "lab-a", "t", "l"), tmp.Sub("outside"));

        // The next transfer names t/l/victim.bin with that size and mtime and mode 0777.
        string mine = tmp.Sub("src/t/l/victim.bin");
        Trees.WriteRandom(mine, 1000, 2);
        File.SetUnixFileMode(mine, (UnixFileMode)0x1FF);
        File.SetLastWriteTimeUtc(mine, mtime);

        var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src/t"), "lab-b"));

        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(victim));
        Assert.Equal(before, File.ReadAllBytes(victim));
    }

    [Fact]
    public async Task SetuidSetgidStickyAndWorldWritableModes_AreStripped_AndTheUmaskIsApplied()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var a = pair.A;
        string src = tmp.Sub("src/ds");
        string tool = Path.Combine(src, "bin", "tool");
        Trees.WriteRandom(tool, 5000, 1);
        Directory.CreateDirectory(Path.Combine(src, "open"));
        Trees.WriteRandom(Path.Combine(src, "open", "x"), 10, 2);
        File.SetUnixFileMode(tool, (UnixFileMode)0xDFF); // 06777
        File.SetUnixFileMode(Path.Combine(src, "open"), (UnixFileMode)0x3FF); // 01777
        Assert.Equal((UnixFileMode)0xDFF, File.GetUnixFileMode(tool));

        await a.Node.SendAsync(src, "lab-b");

        var expectFile = (UnixFileMode)0x1FF & ~Native.Umask & ~UnixFileMode.OtherWrite;
        var expectDir = expectFile | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var special = UnixFileMode.SetUser | UnixFileMode.SetGroup | UnixFileMode.StickyBit | UnixFileMode.OtherWrite;
        var toolMode = File.GetUnixFileMode(pair.Landed("ds/bin/tool"));
        var dirMode = File.GetUnixFileMode(pair.Landed("ds/open"));
        Assert.Equal(expectFile, toolMode);
        Assert.Equal(expectDir, dirMode);
        Assert.Equal((UnixFileMode)0, toolMode & special);
        Assert.Equal((UnixFileMode)0, dirMode & special);
    }

    [Fact]
    public async Task AManifestThatNamesOneChunkOverAndOver_IsRefusedAsDiskFull_BeforeAnythingIsWritten()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        // 200,000 references to one 64 MiB chunk: an 800 KB manifest for a 12.8 TiB file.
        var chunk = new ChunkInfo(Hash256.Of("filler"u8), ManifestCodec.MaxChunkLength);
        const int refs = 200_000;
        var manifest = ManifestCodec.Create(
            [new ManifestEntry("fill.bin", EntryKind.File, Rw, 0, (long)refs * chunk.Length, new int[refs], null)],
            [chunk]);

        await using var conn = await Connect(a, b);
        var ex = await Assert.ThrowsAsync<HaulException>(() => OfferAsync(conn, manifest));

        Assert.Equal(ErrorCode.DiskFull, ex.Code);
        Assert.False(File.Exists(Path.Combine(b.Inbox, "lab-a", "fill.bin")));
        string partial = Path.Combine(b.Inbox, "lab-a", ".haul-partial");
        Assert.False(Directory.Exists(partial) && Directory.EnumerateFiles(partial, "*", SearchOption.AllDirectories).Any());
        await TrustAndSafetyTests.WaitFor(() => b.Logs.Contains("needs"));
    }

    [Fact]
    public async Task EveryFileIsFlushedBeforeItIsRenamedIntoPlace_AndTheReceiptIsSignedAfterTheLastFlush()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 30);
        Trees.WriteRandom(Path.Combine(src, "large.bin"), 6_000_000, 77);
        string root = Path.Combine(b.Inbox, "lab-a");
        var steps = new ConcurrentQueue<string>();
        ReceiveSession.DurabilityProbe = (r, step) =>
        {
            if (r == root)
            {
                steps.Enqueue(step);
            }
        };

        try
        {
            await a.Node.SendAsync(src, "lab-b");
        }
        finally
        {
            ReceiveSession.DurabilityProbe = null;
        }

        var order = steps.ToList();
        var placed = order.Where(s => s.StartsWith("place ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Directory.GetFiles(src, "*", SearchOption.AllDirectories).Count(p => new FileInfo(p).LinkTarget is null), placed.Count);
        foreach (var p in placed)
        {
            string f = p["place ".Length..];
            int complete = order.IndexOf("complete " + f);
            int place = order.IndexOf(p);
            Assert.True(complete >= 0 && complete < place, $"file {f} placed before it was complete");
            Assert.True(order.Skip(complete).Take(place - complete).Contains("sync"), $"file {f} renamed into place without a flush after its last write");
        }

        int sign = order.IndexOf("sign");
        Assert.True(sign > 0, "a receipt was signed");
        Assert.Equal("sync", order[sign - 1]);
        Assert.True(order.LastIndexOf(placed[^1]) < sign);
        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    private static Task<PeerConnection> Connect(TestNode from, TestNode to) =>
        PeerConnection.ConnectAsync(from.Node.Identity, from.Node.Name, to.Node.Identity.Id, to.Address, false, TimeSpan.FromSeconds(10));

    /// <summary>OFFER and the whole manifest in one part, as a hostile sender would; returns the receiver's answer (an ERROR throws).</summary>
    private static async Task<Frame> OfferAsync(PeerConnection conn, Manifest manifest)
    {
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(manifest.Hash, manifest.Encoded.Length).Encode());
        await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(manifest.Encoded));
        return await conn.Channel.ReceiveAsync();
    }

    /// <summary>The receiver notices a dropped connection a moment later: until then the same send is told it is busy.</summary>
    private static async Task SendRetryingWhileBusy(TestNode from, string src)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                await from.Node.SendAsync(src, "lab-b");
                return;
            }
            catch (HaulException ex) when (ex.Code == ErrorCode.TransferBusy && i < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}
