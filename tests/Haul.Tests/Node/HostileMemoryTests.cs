using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;
using Haul.Tests.Support;
using Haul.Transport;

namespace Haul.Tests.Node;

[Collection("nodes")]
/// <summary>
/// A paired peer opening transfers on several connections and sending every piece of its chunks but the
/// last, so nothing completes (the attacker pass of issue 18): the chunk buffers it makes the node hold
/// stay within one peer's budget, whatever the number of transfers.
/// </summary>
public sealed class HostileMemoryTests
{
    [Fact]
    public async Task ManyTransfersFromOnePeerThatNeverCompleteAChunk_HoldAtMostThePeersBudget()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        const int Sessions = 3;
        const int ChunkLen = 64 << 20;
        const int Piece = 16000;
        var conns = new List<PeerConnection>();
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var payload = RandomNumberGenerator.GetBytes(Piece);
        var pkt = new byte[Piece + 100];
        try
        {
            for (int k = 0; k < Sessions; k++)
            {
                var chunks = Enumerable.Range(0, 3).Select(_ => new ChunkInfo(Hash256.Of(RandomNumberGenerator.GetBytes(16)), ChunkLen)).ToArray();
                var manifest = ManifestCodec.Create([new ManifestEntry($"m{k}.bin", EntryKind.File, (UnixFileMode)0x1A4, 0, 3L * ChunkLen, [0, 1, 2], null)], chunks);
                var conn = await PeerConnection.ConnectAsync(pair.A.Node.Identity, "lab-a", pair.B.Node.Identity.Id, pair.B.Address, false, TimeSpan.FromSeconds(10));
                conns.Add(conn);
                await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(manifest.Hash, manifest.Encoded.Length).Encode());
                await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(manifest.Encoded));
                var reply = await conn.Channel.ReceiveAsync();
                Assert.Equal(FrameType.Accept, reply.Type);
                var accept = Messages.Accept.Decode(reply.Payload, chunks.Length);
                var mine = RandomNumberGenerator.GetBytes(32);
                await conn.Channel.SendAsync(FrameType.Start, new Messages.Start(mine, Messages.DataMode.Udp, Piece).Encode());
                await Task.Delay(300);
                var keys = SessionKeys.Derive(mine, accept.ReceiverSecret, manifest.Hash);
                using var codec = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt);
                var to = new IPEndPoint(IPAddress.Loopback, accept.UdpPort);
                int pieces = (ChunkLen + Piece - 1) / Piece;
                for (int c = 0; c < 3; c++)
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

            await Task.Delay(1000);
            long held = Haul.Transfer.ReceiveSession.AssemblingBytes(pair.A.Node.Identity.Id);

            // 3 transfers x 3 chunks of 64 MiB offered: 576 MiB without a node-wide account.
            Assert.True(held <= Haul.Transfer.ReceiveSession.PeerAssemblyBudget, $"the peer made the node hold {held >> 20} MiB of chunk buffers");
            Assert.True(held >= 128L << 20, $"only {held >> 20} MiB held: the attack did not run");
        }
        finally
        {
            foreach (var c in conns)
            {
                await c.DisposeAsync();
            }
        }
    }
}
