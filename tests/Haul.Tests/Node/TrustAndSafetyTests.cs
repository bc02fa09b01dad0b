using System.Net;
using Haul.Content;
using Haul.Node;
using Haul.Protocol;
using Haul.Security;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

[Collection("nodes")]
public sealed class TrustAndSafetyTests
{
    [Fact]
    public async Task UntrustedNode_IsRefusedAtTheHandshake_AndTheRefusalIsLogged()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve();
        await using var stranger = TestNode.Create(tmp.Path, "stranger");
        // The stranger knows b's ID and address, but b does not trust the stranger.
        stranger.Node.Store.AddPeer(b.Node.Identity.Id, "lab-b", b.Address);
        Directory.CreateDirectory(tmp.Sub("src"));
        File.WriteAllText(tmp.Sub("src/x"), "x");

        var ex = await Assert.ThrowsAsync<HaulException>(() => stranger.Node.SendAsync(tmp.Sub("src"), "lab-b"));

        Assert.Equal(ErrorCode.NotTrusted, ex.Code);
        await WaitFor(() => b.Logs.Contains($"refused TLS connection") && b.Logs.Contains(stranger.Node.Identity.Id.ToString()));
        Assert.False(Directory.Exists(Path.Combine(b.Inbox, "stranger")));
    }

    [Fact]
    public async Task Sender_RefusesAServerWhoseIdIsNotThePinnedOne()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve();
        await using var a = TestNode.Create(tmp.Path, "lab-a");
        await using var other = TestNode.Create(tmp.Path, "other");
        b.Node.Store.AddPeer(a.Node.Identity.Id, "lab-a", null);
        // a believes a different node lives at b's address.
        a.Node.Store.AddPeer(other.Node.Identity.Id, "lab-b", b.Address);
        Directory.CreateDirectory(tmp.Sub("src"));
        File.WriteAllText(tmp.Sub("src/x"), "x");
        var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src"), "lab-b"));
        Assert.Equal(ErrorCode.NotTrusted, ex.Code);
    }

    [Fact]
    public async Task InviteToken_WorksOnce()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve();
        await using var a = TestNode.Create(tmp.Path, "lab-a");
        await using var c = TestNode.Create(tmp.Path, "lab-c");
        var token = b.Node.Invite(b.Address, TimeSpan.FromMinutes(5)).Encode();

        var peer = await a.Node.JoinAsync(token);
        Assert.Equal("lab-b", peer.Name);
        Assert.NotNull(b.Node.Store.FindPeer(a.Node.Identity.Id));

        var ex = await Assert.ThrowsAnyAsync<HaulException>(() => c.Node.JoinAsync(token));
        Assert.True(ex.Code is ErrorCode.BadToken or ErrorCode.NotTrusted, ex.Code.ToString());
        Assert.Null(b.Node.Store.FindPeer(c.Node.Identity.Id));
    }

    [Fact]
    public async Task ExpiredInviteToken_IsRefused()
    {
        using var tmp = new TempDir();
        await using var b = TestNode.Create(tmp.Path, "lab-b").Serve();
        await using var a = TestNode.Create(tmp.Path, "lab-a");
        var token = b.Node.Invite(b.Address, TimeSpan.FromSeconds(-1)).Encode();
        var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.JoinAsync(token));
        Assert.Equal(ErrorCode.BadToken, ex.Code);
        Assert.Null(b.Node.Store.FindPeer(a.Node.Identity.Id));
    }

    [Fact]
    public async Task RemovedPeer_IsRefused()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        Assert.True(b.Node.Store.RemovePeer("lab-a"));
        Directory.CreateDirectory(tmp.Sub("src"));
        File.WriteAllText(tmp.Sub("src/x"), "x");
        var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src"), "lab-b"));
        Assert.Equal(ErrorCode.NotTrusted, ex.Code);
    }

    [Theory]
    [InlineData("../escaped.txt")]
    [InlineData("ds/../../escaped.txt")]
    [InlineData("/tmp/escaped.txt")]
    public async Task ManifestPathsThatEscape_AreRefused_AndNothingIsWritten(string evilPath)
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        var chunk = new ChunkInfo(Hash256.Of("evil"u8), 4);
        var manifest = ManifestCodec.Create([new ManifestEntry(evilPath, EntryKind.File, (UnixFileMode)0x1A4, 0, 4, [0], null)], [chunk]);

        await using var conn = await PeerConnection.ConnectAsync(a.Node.Identity, "lab-a", b.Node.Identity.Id, b.Address, false, TimeSpan.FromSeconds(10));
        await conn.Channel.SendAsync(FrameType.Offer, new Messages.Offer(manifest.Hash, manifest.Encoded.Length).Encode());
        await conn.Channel.SendAsync(FrameType.ManifestPart, new WireWriter().U64(0).Bytes(manifest.Encoded));
        var ex = await Assert.ThrowsAsync<HaulException>(async () => await conn.Channel.ReceiveAsync());

        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        Assert.False(File.Exists(Path.Combine(b.Inbox, "escaped.txt")));
        Assert.False(File.Exists(Path.Combine(b.Home, "escaped.txt")));
        Assert.False(File.Exists("/tmp/escaped.txt"));
    }

    [Fact]
    public async Task ASymlinkOnTheReceiverInTheTargetPath_IsNotFollowed()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string outside = tmp.Sub("outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(Path.Combine(b.Inbox, "lab-a", "ds"));
        Directory.CreateSymbolicLink(Path.Combine(b.Inbox, "lab-a", "ds", "sub"), outside);
        Trees.WriteRandom(tmp.Sub("src/ds/sub/file.bin"), 1000, 1);

        var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src/ds"), "lab-b"));

        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task ADirectoryWhereAFileGoes_IsRefused_AndKeptWithWhatItHolds()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string inTheWay = Path.Combine(b.Inbox, "lab-a", "ds", "model.bin");
        Directory.CreateDirectory(inTheWay);
        File.WriteAllText(Path.Combine(inTheWay, "keep.txt"), "mine");
        Trees.WriteRandom(tmp.Sub("src/ds/model.bin"), 50_000, 1);

        var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src/ds"), "lab-b"));

        Assert.Equal(ErrorCode.UnsafePath, ex.Code);
        Assert.Contains("a directory is in the way", ex.Message, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(inTheWay, "keep.txt")));
    }

    [Fact]
    public async Task ASymlinkAtAFilesFinalPath_IsReplaced_NotWrittenThrough()
    {
        using var tmp = new TempDir();
        await using var pair = await NodePair.StartAsync(tmp);
        var (a, b) = (pair.A, pair.B);
        string outside = tmp.Sub("outside.bin");
        File.WriteAllText(outside, "untouched");
        string final = Path.Combine(b.Inbox, "lab-a", "ds", "model.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        File.CreateSymbolicLink(final, outside);
        Trees.WriteRandom(tmp.Sub("src/ds/model.bin"), 50_000, 1);

        await a.Node.SendAsync(tmp.Sub("src/ds"), "lab-b");

        Assert.Null(new FileInfo(final).LinkTarget);
        Assert.Equal(File.ReadAllBytes(tmp.Sub("src/ds/model.bin")), File.ReadAllBytes(final));
        Assert.Equal("untouched", File.ReadAllText(outside));
    }

    [Fact]
    public async Task UnknownPeer_UnreachablePeer_AndMissingPath_GiveTheirOwnCodes()
    {
        using var tmp = new TempDir();
        await using var a = TestNode.Create(tmp.Path, "lab-a");
        Directory.CreateDirectory(tmp.Sub("src"));
        Assert.Equal(ErrorCode.UnknownPeer, (await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src"), "nobody"))).Code);

        a.Node.Store.AddPeer(NodeId.FromHash(new byte[32]), "ghost", "127.0.0.1:1");
        Assert.Equal(ErrorCode.PeerUnreachable, (await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src"), "ghost"))).Code);
        Assert.Equal(ErrorCode.PathNotFound, (await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("missing"), "ghost"))).Code);
    }

    [Fact]
    public async Task DiskFull_OnTheReceiver_IsReportedToTheSender_AndNothingAppearsAtTheFinalPath()
    {
        using var tmp = new TempDir();
        string small = tmp.Sub("small-fs");
        Directory.CreateDirectory(small);
        if (Environment.UserName != "root")
        {
            return; // Mounting a small tmpfs needs root; CI runs as root.
        }

        Assert.True(Mount(small, "size=8m"), "mount -t tmpfs failed");

        try
        {
            await using var b = TestNode.Create(tmp.Path, "lab-b").Serve(new ServeOptions { Inbox = small });
            await using var a = TestNode.Create(tmp.Path, "lab-a");
            await b.PairWith(a);
            Trees.WriteRandom(tmp.Sub("src/ds/big.bin"), 20_000_000, 3);

            var ex = await Assert.ThrowsAsync<HaulException>(() => a.Node.SendAsync(tmp.Sub("src/ds"), "lab-b"));

            Assert.Equal(ErrorCode.DiskFull, ex.Code);
            Assert.False(File.Exists(Path.Combine(small, "lab-a", "ds", "big.bin")));
        }
        finally
        {
            Run("umount", small);
        }
    }

    internal static async Task WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }

    private static bool Mount(string dir, string options) => Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir) == 0;

    private static int Run(string file, params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
