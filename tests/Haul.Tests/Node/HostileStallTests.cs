using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;
using Haul.Tests.Support;
using Haul.Transfer;
using Haul.Transport;

namespace Haul.Tests.Node;

/// <summary>
/// A paired peer that starts transfers and then stops moving them, or starts too many at once (the part
/// of issue 18 left open at first): a read-only peer pulling and never acknowledging, a sender going
/// silent after START, one peer opening transfer after transfer. Each ends at the stall deadline or is
/// refused at the cap, and gives back what it held.
/// </summary>
[Collection("nodes")]
public sealed class HostileStallTests
{
    private static Task<PeerConnection> DialAsync(NodePair pair) => HostilePull.DialAsync(pair);

    private static async Task<NodePair> SharedPairAsync(TempDir tmp, ServeOptions serve, int fileMiB)
    {
        var pair = await NodePair.StartAsync(tmp, serve);
        await HostilePull.ShareAsync(tmp, pair, fileMiB << 20);
        return pair;
    }

    /// <summary>Pulls big.bin and answers the owner's OFFER with an ACCEPT for every chunk and a UDP port that never acknowledges.</summary>
    private static async Task<Manifest> PullAndNeverAcknowledgeAsync(PeerConnection conn, Socket silentUdp)
    {
        var manifest = await HostilePull.PullAsync(conn);
        await HostilePull.AcceptAllAsync(conn, manifest, (ushort)((IPEndPoint)silentUdp.LocalEndPoint!).Port);
        return manifest;
    }

    private static Socket SilentUdp()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return s;
    }

    [Fact]
    public async Task APullThatThePeerNeverAcknowledges_EndsAtTheStallDeadline_AndGivesBackItsSendBuffers()
    {
        using var tmp = new TempDir();
        await using var pair = await SharedPairAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(3) }, 48);
        await using var conn = await DialAsync(pair);
        using var udp = SilentUdp();
        var a = pair.A.Node.Identity.Id;

        await PullAndNeverAcknowledgeAsync(conn, udp);

        // The owner fills its window toward a peer that confirms nothing: held, but within the peer's share.
        long peak = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            peak = Math.Max(peak, MemoryBudget.Sending.HeldBy(a));
            await Task.Delay(50);
        }

        Assert.True(peak >= 8L << 20, $"the owner held only {peak >> 20} MiB for the pull: the attack did not run");
        Assert.True(peak <= MemoryBudget.Sending.PeerLimit);

        // Traffic that is not progress does not hold it: an empty CHUNK_DONE every 300 ms, and the same
        // chunk confirmed again and again (the first confirmation is progress, its repeats are not).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var keepAlive = Task.Run(async () =>
        {
            try
            {
                while (!deadline.IsCancellationRequested)
                {
                    await conn.Channel.SendAsync(FrameType.ChunkDone, new Messages.ChunkDone([], 0).Encode().WrittenMemory, deadline.Token);
                    await conn.Channel.SendAsync(FrameType.ChunkDone, new Messages.ChunkDone([0], 0).Encode().WrittenMemory, deadline.Token);
                    await Task.Delay(300, deadline.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or HaulException or IOException or ObjectDisposedException)
            {
            }
        });

        // Then the deadline: the pull ends with one line to the peer, and everything it held is given back.
        var ex = await Assert.ThrowsAsync<HaulException>(async () =>
        {
            while (true)
            {
                await conn.Channel.ReceiveAsync(deadline.Token);
            }
        });
        await deadline.CancelAsync();
        await keepAlive;
        Assert.Equal(ErrorCode.PeerUnreachable, ex.Code);
        Assert.Contains("confirmed nothing for 3 s", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"ended after {sw.Elapsed.TotalSeconds:0} s");
        await WaitUntilAsync(() => MemoryBudget.Sending.HeldBy(a) == 0);
        Assert.Contains(pair.B.Logs.Lines, m => m.Contains("moved nothing for 3 s"));
    }

    [Fact]
    public async Task ASenderThatGoesSilentAfterStart_EndsAtTheStallDeadline_AndTheSameSendThenResumes()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        await using var conn = await DialAsync(pair);
        var chunks = new[] { new ChunkInfo(Hash256.Of(RandomNumberGenerator.GetBytes(16)), 1 << 20) };
        var manifest = ManifestCodec.Create([new ManifestEntry("quiet.bin", EntryKind.File, (UnixFileMode)0x1A4, 0, 1 << 20, [0], null)], chunks);
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(manifest.Hash, manifest.Encoded.Length).Encode().WrittenMemory);
        await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(manifest.Encoded).WrittenMemory);
        var accept = Messages.Accept.Decode((await conn.Channel.ExpectAsync(FrameType.Accept)).Payload, 1);
        Assert.Single(accept.Need);
        var sw = Stopwatch.StartNew();

        // After ACCEPT the sender says nothing more (no START, no data): the receiver ends the session.
        var ex = await Assert.ThrowsAsync<HaulException>(async () => await conn.Channel.ReceiveAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token));
        Assert.Equal(ErrorCode.PeerUnreachable, ex.Code);
        Assert.Contains("moved nothing for 2 s", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Equal(0, MemoryBudget.Receiving.HeldBy(pair.A.Node.Identity.Id));

        // Nothing was placed, and a real send of a real tree after it lands whole.
        Assert.False(File.Exists(pair.Landed("quiet.bin")));
        string src = tmp.Sub("src");
        Directory.CreateDirectory(src);
        File.WriteAllBytes(Path.Combine(src, "f.bin"), RandomNumberGenerator.GetBytes(300_000));
        await pair.A.Node.SendAsync(src, "lab-b");
        Assert.Equal(File.ReadAllBytes(Path.Combine(src, "f.bin")), File.ReadAllBytes(Path.Combine(pair.Landed("src"), "f.bin")));
    }

    [Fact]
    public async Task ASlowButSteadyTransfer_WhoseChunksEachTakeLongerThanTheDeadline_IsNotCut()
    {
        // 150 KB/s, chunks of about 1 MiB: each takes ~7 s against a 2 s deadline on both sides. Pieces
        // reported received are progress, not only whole chunks.
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        string src = tmp.Sub("slow");
        Directory.CreateDirectory(src);
        var data = new byte[1_500_000];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(Path.Combine(src, "f.bin"), data);
        var options = new SendOptions
        {
            StallTimeout = TimeSpan.FromSeconds(2),
            Rate = new Haul.Transfer.Congestion.RatePolicy { MinBytesPerSec = 100_000, MaxBytesPerSec = 150_000, InitialBytesPerSec = 150_000 },
        };
        var r = await pair.A.Node.SendAsync(src, "lab-b", options);
        Assert.True(r.Elapsed > TimeSpan.FromSeconds(5), $"took {r.Elapsed.TotalSeconds:0.0} s: the rate limit did not hold, so nothing was tested");
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(pair.Landed("slow"), "f.bin")));
    }

    [Fact]
    public async Task OnePeersTransfersBeyondTheCap_AreRefusedBusy_AndASlotFreesWhenOneEnds()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { MaxReceivesPerPeer = 2 });
        var held = new List<PeerConnection>();
        try
        {
            for (int k = 0; k < 2; k++)
            {
                var c = await DialAsync(pair);
                held.Add(c);
                Assert.Equal(FrameType.Accept, (await OfferAsync(c, $"held{k}.bin")).Type);
            }

            await using (var third = await DialAsync(pair))
            {
                var ex = await Assert.ThrowsAsync<HaulException>(() => OfferAsync(third, "third.bin"));
                Assert.Equal(ErrorCode.TransferBusy, ex.Code);
                Assert.Contains("already receives 2 transfers from this node", ex.Message);
            }

            await held[0].DisposeAsync();
            held.RemoveAt(0);
            await WaitUntilAsync(() => pair.B.Server!.Slots.Running(pair.A.Node.Identity.Id, send: false) < 2);
            await using var fourth = await DialAsync(pair);
            Assert.Equal(FrameType.Accept, (await OfferAsync(fourth, "fourth.bin")).Type);
        }
        finally
        {
            foreach (var c in held)
            {
                await c.DisposeAsync();
            }
        }

        Assert.Contains(pair.B.Logs.Lines, m => m.Contains("already receives 2 transfers"));
    }

    [Fact]
    public async Task PullsBeyondTheCap_AreRefusedBusy_AndTheConnectionStaysUsable()
    {
        using var tmp = new TempDir();
        await using var pair = await SharedPairAsync(tmp, new ServeOptions { MaxSendsPerPeer = 1 }, 16);
        await using var first = await DialAsync(pair);
        using var udp = SilentUdp();
        await PullAndNeverAcknowledgeAsync(first, udp);

        await using var second = await DialAsync(pair);
        await second.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, false).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await second.Channel.ReceiveAsync()).Type);
        await second.Channel.SendAsync(FrameType.Pull, FolderMessages.EncodePaths(["big.bin"]).WrittenMemory);
        var ex = await Assert.ThrowsAsync<HaulException>(async () => await second.Channel.ReceiveAsync());
        Assert.Equal(ErrorCode.TransferBusy, ex.Code);
        Assert.Contains("serves 1 pulls", ex.Message);

        // The refusal is an answer, not a cut: the same connection still lists.
        await second.Channel.SendAsync(FrameType.ListRequest, new WireWriter(1).U8(0).WrittenMemory);
        Assert.NotEqual(FrameType.Error, (await second.Channel.ReceiveAsync()).Type);
    }

    private static async Task<Frame> OfferAsync(PeerConnection conn, string name)
    {
        var chunks = new[] { new ChunkInfo(Hash256.Of(RandomNumberGenerator.GetBytes(16)), 1 << 20) };
        var manifest = ManifestCodec.Create([new ManifestEntry(name, EntryKind.File, (UnixFileMode)0x1A4, 0, 1 << 20, [0], null)], chunks);
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(manifest.Hash, manifest.Encoded.Length).Encode().WrittenMemory);
        await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(manifest.Encoded).WrittenMemory);
        return await conn.Channel.ReceiveAsync();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "the condition never held");
            await Task.Delay(50);
        }
    }
}
