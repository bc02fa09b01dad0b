using Haul.Node;
using Haul.Protocol;
using Haul.Tests.Support;
using Haul.Transfer;

namespace Haul.Tests.Node;

/// <summary>Two real nodes on loopback: real TLS, real UDP, real files, real SQLite.</summary>
[Collection("nodes")]
public sealed class TransferTests
{
    [Fact]
    public async Task AFixedRate_IsHeld_WhenTheSenderSleepsBetweenBatches()
    {
        // 60 MB/s with 64 KB batches leaves ~1 ms between sends: the pacer sleeps in microseconds
        // there (not a millisecond, not a spin). The rate must hold within a few percent, and the
        // transfer must not crawl (a sleep that overshot by a timer tick would halve it).
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        Trees.WriteRandom(tmp.Sub("src/ds/w.bin"), 90_000_000, 3);
        var policy = new Haul.Transfer.Congestion.RatePolicy { Mode = Haul.Transfer.Congestion.RateMode.Fixed, MaxBytesPerSec = 60e6 };

        var r = await pair.A.Node.SendAsync(tmp.Sub("src/ds"), "lab-b", new SendOptions { Rate = policy });

        double rate = r.Bytes / r.Elapsed.TotalSeconds;
        Assert.True(rate <= 60e6 * 1.05, $"{rate / 1e6:0.0} MB/s against a fixed 60");
        Assert.True(rate >= 60e6 * 0.5, $"{rate / 1e6:0.0} MB/s against a fixed 60");
        Assert.True(Trees.SameBytes(tmp.Sub("src/ds/w.bin"), Path.Combine(pair.B.Inbox, "lab-a", "ds", "w.bin")));
    }

    [Fact]
    public async Task Send_MovesAMixedTreeByteForByte()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"));

        var progress = new List<TransferProgress>();
        var result = await a.Node.SendAsync(src, "lab-b", progress: p => { lock (progress) { progress.Add(p); } });

        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
        Assert.StartsWith("udp", result.Mode, StringComparison.Ordinal);
        Assert.Equal(result.Bytes, result.Receipt.Bytes);
        Assert.Contains(progress, p => p.Phase == TransferPhase.Done && p.BytesDone == p.BytesTotal);
        Assert.Single(a.Node.Store.ListReceipts());
        Assert.False(Directory.Exists(Path.Combine(b.Inbox, "lab-a", ".haul-partial")));
    }

    [Fact]
    public async Task Resend_OfAFileRewrittenWithItsOldSizeAndTime_DeliversTheNewContent_NotAReceiptForTheOld()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        string src = tmp.Sub("src/rep");
        Directory.CreateDirectory(src);
        string small = Path.Combine(src, "invoice.txt"), big = Path.Combine(src, "big.bin");
        File.WriteAllText(small, "PAY 100 TO ACME");
        Trees.WriteRandom(big, 3_000_000, 4);
        await pair.A.Node.SendAsync(src, "lab-b");

        // Same size, same mtime, other bytes: the quick check alone took them as delivered.
        var t1 = File.GetLastWriteTimeUtc(small);
        var t2 = File.GetLastWriteTimeUtc(big);
        File.WriteAllText(small, "PAY 999 TO EVIL");
        using (var fs = new FileStream(big, FileMode.Open, FileAccess.Write))
        {
            fs.Position = 1_500_000;
            fs.Write("changed"u8);
        }

        File.SetLastWriteTimeUtc(small, t1);
        File.SetLastWriteTimeUtc(big, t2);
        var again = await pair.A.Node.SendAsync(src, "lab-b");

        Assert.True(again.ChunkBytesSent > 0);
        Trees.AssertSame(src, pair.Landed("rep"));
    }

    [Fact]
    public async Task Send_OfASymlinkNamedOnTheCommandLine_SendsTheWholeTargetUnderTheLinksName()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        Trees.WriteRandom(tmp.Sub("data/real.bin"), 4_000_000, 8);
        Directory.CreateDirectory(tmp.Sub("links"));
        File.CreateSymbolicLink(tmp.Sub("links/weights.bin"), tmp.Sub("data/real.bin"));
        Directory.CreateSymbolicLink(tmp.Sub("links/ds"), tmp.Sub("data"));

        var file = await pair.A.Node.SendAsync(tmp.Sub("links/weights.bin"), "lab-b");
        var dir = await pair.A.Node.SendAsync(tmp.Sub("links/ds"), "lab-b");

        // A link's own length is that of its target's path: sent as the file's size, it delivered a
        // 17-byte head of a 4 MB file under a verified receipt.
        Assert.Equal(4_000_000, file.Receipt.Bytes);
        Assert.True(Trees.SameBytes(tmp.Sub("data/real.bin"), Path.Combine(pair.B.Inbox, "lab-a", "weights.bin")));
        Assert.True(Trees.SameBytes(tmp.Sub("data/real.bin"), Path.Combine(pair.B.Inbox, "lab-a", "ds", "real.bin")));
        Assert.Equal(4_000_000, dir.Receipt.Bytes);
    }

    [Fact]
    public async Task Send_OfAMultiGigabyteSparseFile_KeepsItIdenticalAndSparse()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string dir = tmp.Sub("src/sparse");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "disk.img");
        const long size = 3L * 1024 * 1024 * 1024 + 12345;
        using (var fs = new FileStream(file, FileMode.Create))
        {
            fs.SetLength(size);
            var block = new byte[3_000_000];
            new Random(5).NextBytes(block);
            fs.Position = 1L << 30;
            fs.Write(block);
            fs.Position = size - 1000;
            fs.Write(block, 0, 1000);
        }

        var result = await a.Node.SendAsync(dir, "lab-b");

        string landed = Path.Combine(b.Inbox, "lab-a", "sparse", "disk.img");
        Assert.Equal(size, new FileInfo(landed).Length);
        Assert.True(Trees.SameBytes(file, landed));
        // Zero chunks are deduplicated on the wire and left as holes on disk.
        Assert.True(result.ChunkBytesSent < 64L * 1024 * 1024, $"{result.ChunkBytesSent} chunk bytes sent");
        Assert.True(AllocatedBytes(landed) < 256L * 1024 * 1024, $"{AllocatedBytes(landed)} bytes allocated");
    }

    [Fact]
    public async Task Send_SurvivesDropDuplicateReorderAndCorruption()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 30, maxSize: 400_000);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 12_000_000, 77);
        using var relay = new LossyRelay(b.Server!.UdpEndPoint!, drop: 0.05, duplicate: 0.03, reorder: 0.05, corrupt: 0.01);

        var result = await a.Node.SendAsync(src, "lab-b", new SendOptions { UdpOverride = relay.EndPoint });

        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
        Assert.StartsWith("udp", result.Mode, StringComparison.Ordinal);
        Assert.True(relay.Dropped > 0 && relay.Duplicated > 0 && relay.Reordered > 0 && relay.Corrupted > 0);
        Assert.True(result.Retransmitted > 0);
        // Corrupted packets fail authentication and are counted, never written.
        Assert.Contains(b.Logs.Lines, l => l.Contains("received 'dataset'", StringComparison.Ordinal) && !l.Contains("forged 0,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_DataThatOvertakesStart_IsKeptAndPlaced()
    {
        // The sender no longer waits a probe round trip: its first UDP packets may arrive before START
        // (which crosses TCP) has brought the keys. Here they surely do (START is held 300 ms on its way,
        // as on a long path); the receiver must keep them. A delta (the name is there), so the receiver
        // answers with ACCEPT and the data starts after it, with START: the variant without a head start.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 5);
        await a.Node.SendAsync(src, "lab-b");
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 3_000_000, 5);
        HeldFramesStream? path = null;
        a.Node.ControlStreamFilter = s => path = new HeldFramesStream(s, holdOut: new() { [FrameType.Start] = TimeSpan.FromMilliseconds(300) });

        var result = await a.Node.SendAsync(src, "lab-b", new SendOptions { ProposeSession = false });

        Assert.Equal([FrameType.Start], path!.Held);
        Assert.False(result.EarlyStart);
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
        Assert.StartsWith("udp", result.Mode, StringComparison.Ordinal);
        var line = b.Logs.Lines.Last(l => l.Contains("received 'dataset'", StringComparison.Ordinal));
        Assert.Contains("bad chunks 0,", line, StringComparison.Ordinal);
        var early = System.Text.RegularExpressions.Regex.Match(line, @"packets before START (\d+)");
        Assert.True(early.Success && long.Parse(early.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, line);
    }

    [Fact]
    public async Task Send_OfAFreshTree_StartsBeforeTheManifestIsIn_AndAKnownNameDoesNot()
    {
        // Nothing by the tree's name in the inbox: the receiver answers the OFFER at once and the data
        // starts speculatively; a name already there (a delta) waits for the need list as before.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 20);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 6_000_000, 9);

        var first = await a.Node.SendAsync(src, "lab-b");
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
        Assert.True(first.EarlyStart);
        Assert.StartsWith("udp", first.Mode, StringComparison.Ordinal);

        File.WriteAllBytes(Path.Combine(src, "new.bin"), new byte[100_000]);
        var second = await a.Node.SendAsync(src, "lab-b");
        Assert.False(second.EarlyStart);
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
    }

    [Fact]
    public async Task Send_OfAFreshTree_DataLeavesWithTheOffer_InTheSessionTheSenderProposed()
    {
        // A fresh delivery: the receiver takes the session the OFFER proposed, and the data that left
        // with the OFFER (before any answer) is kept and placed once START is in.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 10);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 8_000_000, 21);

        var first = await a.Node.SendAsync(src, "lab-b");

        Assert.True(first.ProposedSession);
        Assert.True(first.EarlyStart);
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
        var line = Assert.Single(b.Logs.Lines, l => l.Contains("received 'dataset'", StringComparison.Ordinal));
        Assert.Contains("forged 0,", line, StringComparison.Ordinal);
        Assert.Contains("bad chunks 0,", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_TakenProposal_IsAcknowledgedBeforeTheReceiverHasItsPlan()
    {
        // The manifest held back a second behind the OFFER, as on a long path where it needs several flights: the
        // receiver that took the proposal cannot place the data yet, but it has the keys, so the data is
        // authenticated and acknowledged as it arrives and the sender's rate control starts at once.
        // Without a proposal (keys only at START) nothing is acknowledged before the plan.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), "taken", files: 5);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 20_000_000, 25);
        string other = Trees.Mixed(tmp.Sub("src"), "plain", files: 5);
        Trees.WriteRandom(Path.Combine(other, "big.bin"), 20_000_000, 26);

        var paths = new List<HeldFramesStream>();
        a.Node.ControlStreamFilter = s =>
        {
            var p = new HeldFramesStream(s, holdOut: new() { [FrameType.ManifestPart] = TimeSpan.FromSeconds(1) });
            paths.Add(p);
            return p;
        };

        var taken = await a.Node.SendAsync(src, "lab-b");
        var plain = await a.Node.SendAsync(other, "lab-b", new SendOptions { ProposeSession = false });

        Assert.All(paths, p => Assert.Equal([FrameType.ManifestPart], p.Held));
        Assert.Equal(2, paths.Count);

        Assert.True(taken.ProposedSession);
        Assert.True(taken.FeedbackBeforeAccept > TimeSpan.FromMilliseconds(500), $"first ACK {taken.FeedbackBeforeAccept.TotalMilliseconds:0} ms before ACCEPT");
        Assert.True(plain.EarlyStart);
        Assert.True(plain.FeedbackBeforeAccept < TimeSpan.FromMilliseconds(500), $"first ACK {plain.FeedbackBeforeAccept.TotalMilliseconds:0} ms before ACCEPT");
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "taken"));
        Trees.AssertSame(other, Path.Combine(b.Inbox, "lab-a", "plain"));
        Assert.All(b.Logs.Lines.Where(l => l.Contains("received '", StringComparison.Ordinal)), l => Assert.Contains("forged 0,", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_ProposalTheReceiverDoesNotTake_IsAbandoned_AndTheSendStillLands()
    {
        // A delta (the name is there): the receiver answers ACCEPT with its own session. What left with
        // the OFFER went to a session nobody registered; the send moves on in the receiver's session,
        // under fresh keys, wastes at most the speculative bound, and lands intact.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 10);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 20_000_000, 22);
        await a.Node.SendAsync(src, "lab-b");
        Trees.WriteRandom(Path.Combine(src, "new.bin"), 300_000, 23);

        var again = await a.Node.SendAsync(src, "lab-b");

        Assert.False(again.ProposedSession);
        Assert.False(again.EarlyStart);
        Assert.InRange(again.ChunkBytesSent, 300_000, 2_000_000);
        Assert.True(again.WireBytes <= again.ChunkBytesSent + (UdpSender.SpeculativeBytes * 11 / 10), $"{again.WireBytes} bytes on the wire");
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
        Assert.All(b.Logs.Lines.Where(l => l.Contains("received 'dataset'", StringComparison.Ordinal)), l => Assert.Contains("forged 0,", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Send_WithoutAProposal_StillStartsOnTheEarlyAccept()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 5);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 4_000_000, 24);

        var r = await a.Node.SendAsync(src, "lab-b", new SendOptions { ProposeSession = false });

        Assert.False(r.ProposedSession);
        Assert.True(r.EarlyStart);
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
    }

    [Fact]
    public async Task Send_SpeculativeStart_OfContentTheReceiverHas_WastesAtMostTheBound()
    {
        // The same 30 MB under a new name plus one new file: fresh by name, so the data starts before the
        // need list; the receiver has the 30 MB (its chunk cache) and asks only for the new file. While
        // the need list is late, the speculative data stops at its bound, and the tree lands intact.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = tmp.Sub("src/models");
        Trees.WriteRandom(Path.Combine(src, "w.bin"), 30_000_000, 4);
        await a.Node.SendAsync(src, "lab-b");
        string copy = tmp.Sub("src/models-copy");
        Directory.CreateDirectory(copy);
        File.Copy(Path.Combine(src, "w.bin"), Path.Combine(copy, "w.bin"));
        Trees.WriteRandom(Path.Combine(copy, "a-new.bin"), 200_000, 5);

        // The need list (ACCEPT) reaches the sender 3 s late, as on a long path where it arrives late.
        HeldFramesStream? path = null;
        a.Node.ControlStreamFilter = s => path = new HeldFramesStream(s, holdIn: new() { [FrameType.Accept] = TimeSpan.FromSeconds(3) });
        var again = await a.Node.SendAsync(copy, "lab-b");

        Assert.Equal([FrameType.Accept], path!.Held);

        Assert.True(again.EarlyStart);
        Assert.InRange(again.ChunkBytesSent, 1, 400_000);
        Assert.True(again.WireBytes <= again.ChunkBytesSent + (UdpSender.SpeculativeBytes * 11 / 10), $"{again.WireBytes} bytes on the wire");
        Trees.AssertSame(copy, Path.Combine(b.Inbox, "lab-a", "models-copy"));
    }

    [Fact]
    public async Task Send_FallsBackToTcpWhenUdpIsBlocked()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 10);
        using var relay = new LossyRelay(b.Server!.UdpEndPoint!, 0, 0, 0, 0, blackhole: true);
        var notices = new List<string>();

        var result = await a.Node.SendAsync(src, "lab-b", new SendOptions { UdpOverride = relay.EndPoint, ProbeTimeout = TimeSpan.FromMilliseconds(500) }, Collect(notices));

        Assert.Equal("tcp", result.Mode);
        Assert.Contains(notices, n => n.Contains("falling back", StringComparison.Ordinal));
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASessionIsProposed_OnlyToAReceiverThatNegotiatedTheRevisionWithProposals(bool firstRevisionOnly)
    {
        // A node of the first protocol revision ("haul/1") refuses an OFFER carrying a proposal. ALPN
        // tells the sender which revision the receiver speaks, inside the TLS handshake: to such a
        // node the send still starts early (EARLY_ACCEPT) but proposes nothing.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { FirstRevisionOnly = firstRevisionOnly });
        string src = Trees.Mixed(tmp.Sub("src"), files: 8);

        var result = await pair.A.Node.SendAsync(src, "lab-b");

        Assert.Equal(!firstRevisionOnly, result.ProposedSession);
        Assert.True(result.EarlyStart);
        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    [Fact]
    public async Task AProposedSession_FallsBackToTcp_WhenAFirewallDropsUdp()
    {
        // The sender proposes its session and starts the data with the OFFER, to the receiver's control
        // address; a firewall there passes TCP and drops UDP. The receiver takes the proposal (the
        // OFFER came over TLS), no acknowledgement ever returns, and the data must move on the TLS
        // connection instead, whole and verified.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        using var firewall = new UdpFirewall(b.Server!.LocalEndPoint);
        a.Node.Store.AddPeer(b.Node.Identity.Id, "lab-b", firewall.EndPoint.ToString());
        string src = Trees.Mixed(tmp.Sub("src"), files: 10);
        var notices = new List<string>();

        var result = await a.Node.SendAsync(src, "lab-b", new SendOptions { ProbeTimeout = TimeSpan.FromMilliseconds(500) }, Collect(notices));

        Assert.True(result.ProposedSession, "the sender proposed its session and the receiver took it");
        Assert.True(firewall.Dropped > 0, "the proposal's first data went into the firewall");
        Assert.Equal("tcp", result.Mode);
        Assert.Contains(notices, n => n.Contains("falling back", StringComparison.Ordinal));
        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    [Fact]
    public async Task Resend_OfAnUnchangedTree_MovesNothing_AndOfAnEditedFile_MovesOnlyItsChangedChunks()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = tmp.Sub("src/models");
        Trees.WriteRandom(Path.Combine(src, "w.bin"), 40_000_000, 1);
        await a.Node.SendAsync(src, "lab-b");

        var again = await a.Node.SendAsync(src, "lab-b");
        Assert.Equal(0, again.ChunkBytesSent);

        using (var fs = new FileStream(Path.Combine(src, "w.bin"), FileMode.Open))
        {
            fs.Position = 20_000_000;
            fs.Write(new byte[100]);
        }

        var edited = await a.Node.SendAsync(src, "lab-b");
        Assert.InRange(edited.ChunkBytesSent, 1, 2 * 4 * 1024 * 1024);
        Assert.True(edited.ReusedBytes > 30_000_000);
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "models"));
    }

    [Fact]
    public async Task ChunksAnywhereOnTheReceivingNode_AreReused_AndAStaleIndexEntryIsNot()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string first = tmp.Sub("src/checkpoints");
        Trees.WriteRandom(Path.Combine(first, "step-1000.bin"), 12_000_000, 7);
        Trees.WriteRandom(Path.Combine(first, "optimizer.bin"), 6_000_000, 8);
        await a.Node.SendAsync(first, "lab-b");

        // Another tree, other names, mostly the same bytes: its chunks are already on lab-b, under
        // inbox/lab-a/checkpoints, which this transfer's destination (inbox/lab-a/release) does not cover.
        string second = tmp.Sub("src/release");
        Directory.CreateDirectory(second);
        File.Copy(Path.Combine(first, "step-1000.bin"), Path.Combine(second, "model.bin"));
        Trees.WriteRandom(Path.Combine(second, "README.bin"), 100_000, 9);
        var r = await a.Node.SendAsync(second, "lab-b");
        Assert.True(r.ReusedBytes >= 11_000_000, $"reused {r.ReusedBytes}");
        Assert.InRange(r.ChunkBytesSent, 1, 1_200_000);
        Trees.AssertSame(second, Path.Combine(b.Inbox, "lab-a", "release"));

        // The file the index points at changes behind its back: the stale entry is re-hashed, found wrong,
        // and the chunks cross the wire instead; nothing wrong lands.
        Trees.WriteRandom(Path.Combine(b.Inbox, "lab-a", "checkpoints", "optimizer.bin"), 6_000_000, 10);
        string third = tmp.Sub("src/opt");
        Directory.CreateDirectory(third);
        File.Copy(Path.Combine(first, "optimizer.bin"), Path.Combine(third, "o.bin"));
        var stale = await a.Node.SendAsync(third, "lab-b");
        Assert.True(stale.ChunkBytesSent >= 5_000_000, $"sent {stale.ChunkBytesSent}");
        Trees.AssertSame(third, Path.Combine(b.Inbox, "lab-a", "opt"));
    }

    [Fact]
    public async Task Resend_AfterRenamingAndMovingFiles_ReusesTheirChunksOnTheReceiver()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = tmp.Sub("src/runs");
        Trees.WriteRandom(Path.Combine(src, "day1", "cam0.bin"), 9_000_000, 1);
        Trees.WriteRandom(Path.Combine(src, "day1", "cam1.bin"), 9_000_000, 2);
        await a.Node.SendAsync(src, "lab-b");

        Directory.CreateDirectory(Path.Combine(src, "archive"));
        File.Move(Path.Combine(src, "day1", "cam0.bin"), Path.Combine(src, "archive", "cam0-renamed.bin"));
        var moved = await a.Node.SendAsync(src, "lab-b");

        Assert.Equal(0, moved.ChunkBytesSent);
        // The unchanged file was not read again on the sender: its chunk list came from the cache.
        Assert.True(a.Node.ChunkCache.Hits >= 1, $"hits {a.Node.ChunkCache.Hits}");
        // The content, not just the name: a file rebuilt entirely from local chunks was once finalized
        // twice, and the second time replaced it with an empty file.
        Assert.True(Trees.SameBytes(Path.Combine(src, "archive", "cam0-renamed.bin"), Path.Combine(b.Inbox, "lab-a", "runs", "archive", "cam0-renamed.bin")));
    }

    [Fact]
    public async Task Send_OverTcpWhenAsked()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 8);
        var result = await a.Node.SendAsync(src, "lab-b", new SendOptions { ForceTcp = true });
        Assert.Equal("tcp", result.Mode);
        Trees.AssertSame(src, Path.Combine(b.Inbox, "lab-a", "dataset"));
    }

    [Fact]
    public async Task Serve_InboxOption_ChangesWhereSendsLand()
    {
        using var tmp = new TempDir();
        string inbox = tmp.Sub("custom-inbox");
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { Inbox = inbox });
        var (a, b) = (pair.A, pair.B);
        string src = tmp.Sub("src/one.txt");
        Directory.CreateDirectory(tmp.Sub("src"));
        File.WriteAllText(src, "hello");
        await a.Node.SendAsync(src, "lab-b");
        Assert.Equal("hello", File.ReadAllText(Path.Combine(inbox, "lab-a", "one.txt")));
    }

    private static long AllocatedBytes(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("du", ["-B1", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A progress callback that keeps the notices (fallbacks, warnings) a send reports.</summary>
    private static Action<TransferProgress> Collect(List<string> notices) => p =>
    {
        if (p.Notice is not null)
        {
            lock (notices)
            {
                notices.Add(p.Notice);
            }
        }
    };
}
