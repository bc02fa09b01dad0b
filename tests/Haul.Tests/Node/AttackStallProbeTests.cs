using System.Buffers.Binary;
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
/// The attacker pass on issue 18's stall deadline, budgets and slots: a paired peer that keeps a transfer
/// "moving" without moving it, fills the node with chunk buffers the budget does not see, or a legitimate
/// transfer that the deadline ends wrongly.
/// </summary>
[Collection("nodes")]
public sealed class AttackStallProbeTests
{
    private static Task<PeerConnection> DialAsync(NodePair pair) => HostilePull.DialAsync(pair);

    private static async Task<Messages.Accept> OfferAsync(PeerConnection conn, Manifest manifest)
    {
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(manifest.Hash, manifest.Encoded.Length).Encode().WrittenMemory);
        await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(manifest.Encoded).WrittenMemory);
        return Messages.Accept.Decode((await conn.Channel.ExpectAsync(FrameType.Accept)).Payload, manifest.Chunks.Length);
    }

    private static byte[] ChunkFrame(int chunk, ReadOnlySpan<byte> data)
    {
        var f = new byte[4 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(f, (uint)chunk);
        data.CopyTo(f.AsSpan(4));
        return f;
    }

    private static ChunkInfo Unknown(int length) => new(Hash256.Of(RandomNumberGenerator.GetBytes(16)), length);

    private static ManifestEntry FileOf(string name, long size, int[] chunks) => new(name, EntryKind.File, (UnixFileMode)0x1A4, 0, size, chunks, null);

    /// <summary>
    /// A sender in TCP mode whose CHUNK_DATA frames outrun the receiver's writer (a slow disk, here a writer
    /// held on its first file): each frame is read off the TLS connection at once and queued as a new array,
    /// outside <see cref="MemoryBudget.Receiving"/>. 384 MiB of frames for chunks the manifest names grew the
    /// receiving node by that much while the budget counted 0.
    /// </summary>
    [Fact]
    public async Task TcpChunkDataQueuedBehindASlowWriter_IsBoundedByThePeersBudget()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        using var gate = new ManualResetEventSlim();
        using var blocked = new ManualResetEventSlim();
        string inbox = pair.B.Inbox;
        ReceiveSession.DurabilityProbe = (root, step) =>
        {
            if (root.StartsWith(inbox, StringComparison.Ordinal) && step.StartsWith("complete", StringComparison.Ordinal))
            {
                blocked.Set();
                gate.Wait(TimeSpan.FromSeconds(60));
            }
        };

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task? flood = null;
        var conn = await DialAsync(pair);
        try
        {
            const int N = 384;
            const int Len = 1 << 20;
            var first = RandomNumberGenerator.GetBytes(4096);
            var chunks = new ChunkInfo[N + 1];
            chunks[0] = new ChunkInfo(Hash256.Of(first), first.Length);
            for (int i = 1; i <= N; i++)
            {
                chunks[i] = Unknown(Len);
            }

            var manifest = ManifestCodec.Create([FileOf("k.bin", first.Length, [0]), FileOf("junk.bin", (long)N * Len, [.. Enumerable.Range(1, N)])], chunks);
            await OfferAsync(conn, manifest);
            await conn.Channel.SendAsync(FrameType.Start, new Messages.Start(RandomNumberGenerator.GetBytes(32), Messages.DataMode.Tcp, DataFormat.SmallPiece).Encode());
            await conn.Channel.SendAsync(FrameType.ChunkData, ChunkFrame(0, first));
            Assert.True(blocked.Wait(TimeSpan.FromSeconds(10)), "the writer never reached the first file");

            long before = GC.GetTotalMemory(true);
            var frame = new byte[4 + Len];
            flood = Task.Run(async () =>
            {
                for (int c = 1; c <= N; c++)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)c);
                    await conn.Channel.SendAsync(FrameType.ChunkData, frame, cts.Token);
                }
            });

            var sw = Stopwatch.StartNew();
            while (!flood.IsCompleted && sw.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100);
            }

            await Task.Delay(1000);
            long grown = GC.GetTotalMemory(true) - before;
            long counted = MemoryBudget.Receiving.HeldBy(pair.A.Node.Identity.Id);
            Assert.True(
                grown <= ReceiveSession.PeerAssemblyBudget + (32L << 20),
                $"the peer grew the receiving node by {grown >> 20} MiB of queued CHUNK_DATA ({(flood.IsCompleted ? "every frame was taken" : "the flood was held back")}); the budget counted {counted >> 20} MiB");
        }
        finally
        {
            gate.Set();
            ReceiveSession.DurabilityProbe = null;
            await cts.CancelAsync();
            await conn.DisposeAsync();
            if (flood is not null)
            {
                try
                {
                    await flood;
                }
                catch (Exception ex) when (ex is OperationCanceledException or HaulException or ObjectDisposedException or IOException)
                {
                }
            }
        }
    }

    /// <summary>
    /// A sender that sends all but the last piece of two 64 MiB chunks (the receive holds 128 MiB of the
    /// peer's budget), then re-sends one small chunk that is already written, as CHUNK_DATA, every 400 ms.
    /// Every such frame counts as the sender moving the transfer (FramesIn), so the stall deadline never
    /// comes and the budget and the slot stay taken for as long as the peer likes.
    /// </summary>
    [Fact]
    public async Task DuplicateChunkDataFrames_DoNotKeepAReceiveThatMovesNothingAlive()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        var a = pair.A.Node.Identity.Id;
        await using var conn = await DialAsync(pair);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        const int ChunkLen = 64 << 20;
        const int Piece = 16000;
        var small = RandomNumberGenerator.GetBytes(4096);
        var chunks = new[] { new ChunkInfo(Hash256.Of(small), small.Length), Unknown(ChunkLen), Unknown(ChunkLen) };
        var manifest = ManifestCodec.Create([FileOf("k.bin", small.Length, [0]), FileOf("h.bin", 2L * ChunkLen, [1, 2])], chunks);
        var accept = await OfferAsync(conn, manifest);
        var mine = RandomNumberGenerator.GetBytes(32);
        await conn.Channel.SendAsync(FrameType.Start, new Messages.Start(mine, Messages.DataMode.Udp, Piece).Encode());
        await Task.Delay(300);
        var keys = SessionKeys.Derive(mine, accept.ReceiverSecret, manifest.Hash);
        using (var codec = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt))
        {
            var to = new IPEndPoint(IPAddress.Loopback, accept.UdpPort);
            var payload = RandomNumberGenerator.GetBytes(Piece);
            var pkt = new byte[Piece + 100];
            int pieces = (ChunkLen + Piece - 1) / Piece;
            for (int c = 1; c <= 2; c++)
            {
                for (int p = 0; p < pieces - 1; p++)
                {
                    int n = codec.SealData(accept.SessionId, (uint)c, (uint)(p * Piece), 0, payload, pkt);
                    udp.SendTo(pkt.AsSpan(0, n), to);
                    if (p % 64 == 0)
                    {
                        Thread.Sleep(1);
                    }
                }
            }
        }

        await conn.Channel.SendAsync(FrameType.ChunkData, ChunkFrame(0, small));
        await Task.Delay(500);
        long held = MemoryBudget.Receiving.HeldBy(a);
        Assert.True(held >= 64L << 20, $"only {held >> 20} MiB held: the attack did not run");

        // Now nothing new: the written chunk again and again.
        var sw = Stopwatch.StartNew();
        bool ended = false;
        while (sw.Elapsed < TimeSpan.FromSeconds(10) && !ended)
        {
            try
            {
                await conn.Channel.SendAsync(FrameType.ChunkData, ChunkFrame(0, small));
            }
            catch (HaulException)
            {
                ended = true;
            }

            await Task.Delay(400);
            ended |= pair.B.Server!.Slots.Running(a, send: false) == 0;
        }

        Assert.True(
            ended,
            $"{sw.Elapsed.TotalSeconds:0} s after the sender last moved the transfer (the deadline is 2 s) the receive still runs and holds {MemoryBudget.Receiving.HeldBy(a) >> 20} MiB: duplicate CHUNK_DATA frames count as progress");
    }

    /// <summary>
    /// A read-only peer pulls over TCP (ACCEPT with no UDP port), reads one chunk, then sends CHUNK_DONE for
    /// chunk 0 as many times as it asked chunks. The owner's TcpSender adds up the repeats, takes the data
    /// phase for finished, drops its stall watch and waits for a receipt with no deadline: the pull slot,
    /// the open source files and the connection are held until the peer hangs up.
    /// </summary>
    [Fact]
    public async Task DuplicateChunkDoneFrames_DoNotTurnOffAPullsStallDeadline()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        await HostilePull.ShareAsync(tmp, pair, 16 << 20);
        var a = pair.A.Node.Identity.Id;
        await using var conn = await DialAsync(pair);

        var manifest = await HostilePull.PullAsync(conn);
        int n = manifest.Chunks.Length;
        Assert.True(n >= 2, "the file should have several chunks");
        await HostilePull.AcceptAllAsync(conn, manifest, 0);
        Assert.Equal(FrameType.ChunkData, (await conn.Channel.ExpectAsync(FrameType.ChunkData)).Type);
        for (int k = 0; k < n; k++)
        {
            await conn.Channel.SendAsync(FrameType.ChunkDone, new Messages.ChunkDone([0], 0).Encode());
        }

        // Then silence: no reading, no receipt.
        Assert.Equal(1, pair.B.Server!.Slots.Running(a, send: true));
        var sw = Stopwatch.StartNew();
        while (pair.B.Server.Slots.Running(a, send: true) > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
        }

        Assert.True(
            pair.B.Server.Slots.Running(a, send: true) == 0,
            $"{sw.Elapsed.TotalSeconds:0} s after the peer last moved the pull (the deadline is 2 s) the owner still serves it: one chunk of {n} confirmed {n} times ended the watched data phase");
    }

    /// <summary>
    /// A legitimate send to a receiver whose disk takes longer than the deadline for one step of the
    /// writer (here the first file's completion; in the field a slow write or the mid-transfer syncfs of
    /// PlacePending). The writer's work is the receiver's own, but the stall watch is not paused for it:
    /// every byte has arrived, nothing new can come, and the receiver ends the send as the sender's stall.
    /// </summary>
    [Fact]
    public async Task ASlowDiskOnTheReceiver_DoesNotEndALegitimateSendAsStalled()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(1) });
        string src = tmp.Sub("src");
        Directory.CreateDirectory(src);
        File.WriteAllBytes(Path.Combine(src, "a.bin"), RandomNumberGenerator.GetBytes(100_000));
        File.WriteAllBytes(Path.Combine(src, "b.bin"), RandomNumberGenerator.GetBytes(4 << 20));
        string inbox = pair.B.Inbox;
        int once = 0;
        ReceiveSession.DurabilityProbe = (root, step) =>
        {
            if (root.StartsWith(inbox, StringComparison.Ordinal) && step.StartsWith("complete", StringComparison.Ordinal) && Interlocked.Exchange(ref once, 1) == 0)
            {
                Thread.Sleep(4000);
            }
        };

        try
        {
            await pair.A.Node.SendAsync(src, "lab-b");
        }
        finally
        {
            ReceiveSession.DurabilityProbe = null;
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(src, "b.bin")), File.ReadAllBytes(Path.Combine(pair.Landed("src"), "b.bin")));
    }

    /// <summary>
    /// A legitimate send whose UDP data reaches the receiver but whose acknowledgements never come back
    /// (a one-way firewall), and which is cut after 200 datagrams: the sender falls back to TCP and sends
    /// every needed chunk again, but the receiver drops a CHUNK_DATA for any chunk it was assembling from
    /// UDP (state Assembling is not Needed). Those chunks never complete: before issue 18 the send hung,
    /// now it ends at the stall deadline, and every retry that takes the same path ends the same way.
    /// </summary>
    [Fact]
    public async Task AFallbackToTcpAfterPartOfAChunkCameOverUdp_StillCompletes()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(3) });
        string src = tmp.Sub("src");
        Directory.CreateDirectory(src);
        var data = RandomNumberGenerator.GetBytes(8 << 20);
        File.WriteAllBytes(Path.Combine(src, "f.bin"), data);

        using var relay = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        relay.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var node = new IPEndPoint(IPAddress.Loopback, pair.B.Server!.UdpEndPoint!.Port);
        using var stop = new CancellationTokenSource();
        long forwarded = 0;
        var pump = Task.Run(async () =>
        {
            var buf = new byte[70_000];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            while (!stop.IsCancellationRequested)
            {
                SocketReceiveFromResult r;
                try
                {
                    r = await relay.ReceiveFromAsync(buf, SocketFlags.None, any, stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                // From the sender: the first 50 go on (part of a chunk, even on a loaded machine); from the node (acknowledgements): nothing.
                if (!((IPEndPoint)r.RemoteEndPoint).Equals(node) && Interlocked.Increment(ref forwarded) <= 50)
                {
                    await relay.SendToAsync(buf.AsMemory(0, r.ReceivedBytes), SocketFlags.None, node);
                }
            }
        });

        try
        {
            var options = new SendOptions { UdpOverride = (IPEndPoint)relay.LocalEndPoint!, ProbeTimeout = TimeSpan.FromSeconds(1), StallTimeout = TimeSpan.FromSeconds(3) };
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await pair.A.Node.SendAsync(src, "lab-b", options, cancellationToken: deadline.Token);
        }
        finally
        {
            await stop.CancelAsync();
            await pump;
        }

        Assert.True(Interlocked.Read(ref forwarded) >= 10, $"the relay saw {Interlocked.Read(ref forwarded)} packets from the sender: the attack did not run");
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(pair.Landed("src"), "f.bin")));
    }
    /// <summary>
    /// A sender in TCP mode that sends the same wrong bytes for a needed chunk every 300 ms: each is new data
    /// until the writer checks it, then the chunk is needed again. Without a limit on failures the receive
    /// (its slot, its partial folder, the chunk buffers of anything else it holds) lived for ever.
    /// </summary>
    [Fact]
    public async Task WrongBytesForANeededChunkAgainAndAgain_DoNotKeepAReceiveAlive()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        var a = pair.A.Node.Identity.Id;
        await using var conn = await DialAsync(pair);
        var manifest = ManifestCodec.Create([FileOf("k.bin", 4096, [0])], [Unknown(4096)]);
        await OfferAsync(conn, manifest);
        await conn.Channel.SendAsync(FrameType.Start, new Messages.Start(RandomNumberGenerator.GetBytes(32), Messages.DataMode.Tcp, DataFormat.SmallPiece).Encode());
        var sw = Stopwatch.StartNew();
        bool ended = false;
        while (sw.Elapsed < TimeSpan.FromSeconds(10) && !ended)
        {
            try
            {
                await conn.Channel.SendAsync(FrameType.ChunkData, ChunkFrame(0, RandomNumberGenerator.GetBytes(4096)));
            }
            catch (HaulException)
            {
                ended = true;
            }

            await Task.Delay(300);
            ended |= pair.B.Server!.Slots.Running(a, send: false) == 0;
        }

        Assert.True(ended, $"after {sw.Elapsed.TotalSeconds:0} s of wrong bytes for one chunk (the deadline is 2 s) the receive still runs");
    }

    /// <summary>
    /// A read-only peer pulls over UDP, acknowledges nothing, and sends an empty CHUNK_DONE every 400 ms:
    /// each frame counted as the receiver moving the pull, so the owner's send window stayed full for ever.
    /// </summary>
    [Fact]
    public async Task EmptyChunkDoneFrames_DoNotKeepAPullThatAcknowledgesNothingAlive()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        await HostilePull.ShareAsync(tmp, pair, 32 << 20);
        var a = pair.A.Node.Identity.Id;
        await using var conn = await DialAsync(pair);
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var manifest = await HostilePull.PullAsync(conn);
        await HostilePull.AcceptAllAsync(conn, manifest, (ushort)((IPEndPoint)silent.LocalEndPoint!).Port);

        var sw = Stopwatch.StartNew();
        long peak = 0;
        bool ended = false;
        while (sw.Elapsed < TimeSpan.FromSeconds(10) && !ended)
        {
            try
            {
                await conn.Channel.SendAsync(FrameType.ChunkDone, new Messages.ChunkDone([], 0).Encode());
            }
            catch (HaulException)
            {
                ended = true;
            }

            await Task.Delay(400);
            peak = Math.Max(peak, MemoryBudget.Sending.HeldBy(a));
            ended |= pair.B.Server!.Slots.Running(a, send: true) == 0;
        }

        Assert.True(ended, $"after {sw.Elapsed.TotalSeconds:0} s of empty CHUNK_DONE frames (the deadline is 2 s) the owner still serves the pull, holding up to {peak >> 20} MiB of send window");
    }
    /// <summary>
    /// A read-only peer pulls over TCP, reads and confirms every chunk honestly, then never sends the
    /// receipt. The owner waited for it with no deadline, holding the pull slot, the open source files and
    /// the connection until the peer hung up (failed before); the receipt wait now has a deadline of its own.
    /// </summary>
    [Fact]
    public async Task APullerThatNeverSendsTheReceipt_DoesNotHoldTheSlotForEver()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp, new ServeOptions { StallTimeout = TimeSpan.FromSeconds(2) });
        await HostilePull.ShareAsync(tmp, pair, 4 << 20);
        var a = pair.A.Node.Identity.Id;
        await using var conn = await DialAsync(pair);

        var manifest = await HostilePull.PullAsync(conn);
        int n = manifest.Chunks.Length;
        await HostilePull.AcceptAllAsync(conn, manifest, 0);
        for (int k = 0; k < n; k++)
        {
            var f = await conn.Channel.ExpectAsync(FrameType.ChunkData);
            await conn.Channel.SendAsync(FrameType.ChunkDone, new Messages.ChunkDone([(int)BinaryPrimitives.ReadUInt32BigEndian(f.Payload)], 0).Encode());
        }

        var sw = Stopwatch.StartNew();
        while (pair.B.Server!.Slots.Running(a, send: true) > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
        }

        Assert.True(pair.B.Server.Slots.Running(a, send: true) == 0, $"{sw.Elapsed.TotalSeconds:0} s after the last chunk was confirmed (the deadline is 2 s) the owner still waits for the receipt, holding the pull slot");
    }
}
