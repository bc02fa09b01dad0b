using System.Security.Cryptography;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;

namespace Haul.Tests.Support;

/// <summary>
/// A paired peer pulling from lab-b's folder "open" with raw frames, to misbehave as the receiving half:
/// dial, pull, read the owner's OFFER and manifest, answer ACCEPT, and then do (or not do) what a test wants.
/// </summary>
internal static class HostilePull
{
    public static Task<PeerConnection> DialAsync(NodePair pair) =>
        PeerConnection.ConnectAsync(pair.A.Node.Identity, "lab-a", pair.B.Node.Identity.Id, pair.B.Address, false, TimeSpan.FromSeconds(10));

    /// <summary>Shares lab-b's folder "open" read-only with lab-a, holding big.bin of <paramref name="bytes"/> random bytes.</summary>
    public static async Task ShareAsync(TempDir tmp, NodePair pair, int bytes)
    {
        string shared = tmp.Sub("shared");
        Directory.CreateDirectory(shared);
        await File.WriteAllBytesAsync(Path.Combine(shared, "big.bin"), RandomNumberGenerator.GetBytes(bytes));
        pair.B.Node.Store.SetFolder("open", shared);
        pair.B.Node.Store.SetShare("open", pair.A.Node.Identity.Id, Haul.State.ShareAccess.ReadOnly);
    }

    /// <summary>Opens "open", pulls <paramref name="file"/>, and returns the manifest of the owner's OFFER.</summary>
    public static async Task<Manifest> PullAsync(PeerConnection conn, string file = "big.bin")
    {
        await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, false).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await conn.Channel.ReceiveAsync()).Type);
        await conn.Channel.SendAsync(FrameType.Pull, FolderMessages.EncodePaths([file]).WrittenMemory);
        var offer = Messages.Offer.Decode((await conn.Channel.ExpectAsync(FrameType.Offer)).Payload);
        var parts = new ManifestParts(offer.BytesOnWire);
        while (!parts.IsComplete)
        {
            parts.Add((await conn.Channel.ExpectAsync(FrameType.ManifestPart)).Payload);
        }

        return ManifestCodec.Decode(Messages.DecodeManifest(offer.Coding, parts.Wire, offer.Length));
    }

    /// <summary>Answers ACCEPT for every chunk (data to <paramref name="udpPort"/>; 0: over TLS) and reads START.</summary>
    public static async Task AcceptAllAsync(PeerConnection conn, Manifest manifest, ushort udpPort)
    {
        var accept = new Messages.Accept(7, udpPort, RandomNumberGenerator.GetBytes(32), [(0, manifest.Chunks.Length)], 0, 0, string.Empty);
        await conn.Channel.SendAsync(FrameType.Accept, accept.Encode().WrittenMemory);
        Assert.Equal(FrameType.Start, (await conn.Channel.ExpectAsync(FrameType.Start)).Type);
    }
}
