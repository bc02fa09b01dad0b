using Haul.Protocol;
using Haul.Tests.Support;
using Haul.Transfer;

namespace Haul.Tests.Node;

/// <summary>
/// The frames each start variant puts on the control connection, in order, as a receiver sees them: the
/// sender's parts (negotiation, data plane, fallback) may move, these may not.
/// </summary>
[Collection("nodes")]
public sealed class SendVariantFrameTests
{
    [Theory]
    [InlineData("offer", "Hello Offer ManifestPart Start Bye", "Hello EarlyAccept Accept ChunkDone* Receipt")]
    [InlineData("early", "Hello Offer ManifestPart Start Bye", "Hello EarlyAccept Accept ChunkDone* Receipt")]
    [InlineData("after", "Hello Offer ManifestPart Start Bye", "Hello Accept ChunkDone* Receipt")]
    [InlineData("tcp", "Hello Offer ManifestPart Start ChunkData+ Bye", "Hello Accept ChunkDone* Receipt")]
    [InlineData("fallback", "Hello Offer ManifestPart Start ChunkData+ Bye", "Hello EarlyAccept Accept ChunkDone* Receipt")]
    public async Task EachStartVariant_CrossesTheControlConnectionInItsOrder(string variant, string sent, string received)
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string src = Trees.Mixed(tmp.Sub("src"), files: 5);
        Trees.WriteRandom(Path.Combine(src, "big.bin"), 3_000_000, 5);
        if (variant == "after")
        {
            // A delta: the name is there, so the receiver answers with ACCEPT (no early start).
            await a.Node.SendAsync(src, "lab-b");
            Trees.WriteRandom(Path.Combine(src, "new.bin"), 1_000_000, 6);
        }

        HeldFramesStream? path = null;
        a.Node.ControlStreamFilter = s => path = new HeldFramesStream(s);
        using var relay = new LossyRelay(b.Server!.UdpEndPoint!, 0, 0, 0, 0, blackhole: true);
        var options = variant switch
        {
            "early" => new SendOptions { ProposeSession = false },
            "tcp" => new SendOptions { ForceTcp = true },
            "fallback" => new SendOptions { UdpOverride = relay.EndPoint, ProbeTimeout = TimeSpan.FromMilliseconds(500) },
            _ => new SendOptions(),
        };

        var r = await a.Node.SendAsync(src, "lab-b", options);

        Assert.Equal(sent, Collapse(path!.Written));
        Assert.Equal(received, Collapse(path.Received));
        Assert.Equal((variant is "offer" or "early" or "fallback", variant == "offer"), (r.EarlyStart, r.ProposedSession));
        Assert.Equal(variant is "tcp" or "fallback" ? "tcp" : "udp", r.Mode[..3]);
        Assert.Equal(35, path.Written.Single(f => f.Type == FrameType.Start).Length);
        Trees.AssertSame(src, pair.Landed("dataset"));
    }

    /// <summary>Frame types in order; runs of CHUNK_DATA as "ChunkData+", of CHUNK_DONE as "ChunkDone*" (their count varies with timing).</summary>
    private static string Collapse(List<(FrameType Type, int Length)> frames)
    {
        var parts = new List<string>();
        lock (frames)
        {
            foreach (var (t, _) in frames)
            {
                string name = t switch { FrameType.ChunkData => "ChunkData+", FrameType.ChunkDone => "ChunkDone*", _ => t.ToString() };
                if (parts.Count == 0 || parts[^1] != name || !name.EndsWith('+') && !name.EndsWith('*'))
                {
                    parts.Add(name);
                }
            }
        }

        return string.Join(' ', parts);
    }
}
