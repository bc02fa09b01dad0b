using Haul.Node;
using Haul.Protocol;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>
/// A paired peer speaking raw folder frames: it asks for folders it was not given, for paths that
/// leave a folder, through symlinks planted in it, and writes to a read-only share. Each request is
/// refused on the owner, the connection stays usable, and nothing outside the folder is read or changed.
/// </summary>
[Collection("nodes")]
public sealed class HostileFolderTests
{
    private static async Task<(NodePair Pair, string Shared, string Secret)> SetupAsync(TempDir tmp)
    {
        var pair = await NodePair.StartAsync(tmp);
        string shared = tmp.Sub("shared"), secret = tmp.Sub("secret");
        Directory.CreateDirectory(shared);
        Directory.CreateDirectory(secret);
        File.WriteAllText(Path.Combine(shared, "ok.txt"), "shared");
        File.WriteAllText(Path.Combine(secret, "key.txt"), "TOP-SECRET");
        var store = pair.B.Node.Store;
        store.SetFolder("open", shared);
        store.SetShare("open", pair.A.Node.Identity.Id, Haul.State.ShareAccess.ReadOnly);
        store.SetFolder("private", secret); // not shared with lab-a
        return (pair, shared, secret);
    }

    private static Task<PeerConnection> DialAsync(NodePair pair) =>
        PeerConnection.ConnectAsync(pair.A.Node.Identity, "lab-a", pair.B.Node.Identity.Id, pair.B.Address, false, TimeSpan.FromSeconds(10));

    private static async Task<ErrorCode> RefusalAsync(PeerConnection conn, FrameType type, WireWriter payload)
    {
        await conn.Channel.SendAsync(type, payload.WrittenMemory);
        var ex = await Assert.ThrowsAsync<HaulException>(async () => await conn.Channel.ReceiveAsync());
        return ex.Code;
    }

    [Fact]
    public async Task AFolderNotSharedWithThePeer_LooksTheSameAsOneThatDoesNotExist()
    {
        using var tmp = new TempDir();
        var (pair, _, _) = await SetupAsync(tmp);
        await using var _p = pair;
        await using var conn = await DialAsync(pair);

        Assert.Equal(ErrorCode.UnknownFolder, await RefusalAsync(conn, FrameType.FolderOpen, new FolderMessages.Open("private", string.Empty, false).Encode()));
        Assert.Equal(ErrorCode.UnknownFolder, await RefusalAsync(conn, FrameType.FolderOpen, new FolderMessages.Open("no-such", string.Empty, false).Encode()));

        // Still usable: a folder it was given opens.
        await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, false).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await conn.Channel.ReceiveAsync()).Type);
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("/etc")]
    [InlineData("a/../../secret")]
    public async Task ASubPathThatLeavesTheFolder_IsRefused(string sub)
    {
        using var tmp = new TempDir();
        var (pair, _, _) = await SetupAsync(tmp);
        await using var _p = pair;
        await using var conn = await DialAsync(pair);

        var code = await RefusalAsync(conn, FrameType.FolderOpen, new FolderMessages.Open("open", sub, false).Encode());

        Assert.True(code is ErrorCode.UnsafePath or ErrorCode.ProtocolError, code.ToString());
    }

    [Fact]
    public async Task PullsAndHashesThroughAPlantedSymlink_OrOutOfTheFolder_AreRefused()
    {
        using var tmp = new TempDir();
        var (pair, shared, secret) = await SetupAsync(tmp);
        await using var _p = pair;
        // Whoever can write the shared folder (another peer, a local process) plants links out of it.
        File.CreateSymbolicLink(Path.Combine(shared, "leak.txt"), Path.Combine(secret, "key.txt"));
        Directory.CreateSymbolicLink(Path.Combine(shared, "leakdir"), secret);
        await using var conn = await DialAsync(pair);
        await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, false).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await conn.Channel.ReceiveAsync()).Type);

        Assert.Equal(ErrorCode.UnsafePath, await RefusalAsync(conn, FrameType.Pull, FolderMessages.EncodePaths(["leak.txt"])));
        Assert.Equal(ErrorCode.UnsafePath, await RefusalAsync(conn, FrameType.Pull, FolderMessages.EncodePaths(["leakdir/key.txt"])));
        Assert.Equal(ErrorCode.UnsafePath, await RefusalAsync(conn, FrameType.HashRequest, FolderMessages.EncodePaths(["leakdir/key.txt"])));
        var code = await RefusalAsync(conn, FrameType.Pull, FolderMessages.EncodePaths(["../secret/key.txt"]));
        Assert.True(code is ErrorCode.UnsafePath or ErrorCode.ProtocolError, code.ToString());
        Assert.True(pair.B.Logs.Lines.Any(l => l.Contains("refused", StringComparison.OrdinalIgnoreCase)), "the refusals are logged");
    }

    [Fact]
    public async Task WritesToAReadOnlyShare_AreRefused_AndChangeNothing()
    {
        using var tmp = new TempDir();
        var (pair, shared, _) = await SetupAsync(tmp);
        await using var _p = pair;
        await using var conn = await DialAsync(pair);

        Assert.Equal(ErrorCode.PermissionDenied, await RefusalAsync(conn, FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, true).Encode()));
        await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, false).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await conn.Channel.ReceiveAsync()).Type);
        Assert.Equal(ErrorCode.PermissionDenied, await RefusalAsync(conn, FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.Delete, string.Empty, ["ok.txt"])));
        Assert.Equal(ErrorCode.PermissionDenied, await RefusalAsync(conn, FrameType.SetTimes, FolderMessages.EncodeTimes([("ok.txt", 0L)])));

        Assert.Equal("shared", File.ReadAllText(Path.Combine(shared, "ok.txt")));
    }

    [Fact]
    public async Task RemovingEmptyFolders_NeverGoesThroughALink_NorRemovesAFolderWithFiles_NorOnAReadOnlyShare()
    {
        using var tmp = new TempDir();
        var (pair, shared, secret) = await SetupAsync(tmp);
        await using var _p = pair;
        Directory.CreateDirectory(Path.Combine(secret, "empty"));
        Directory.CreateDirectory(Path.Combine(shared, "gone"));
        Directory.CreateDirectory(Path.Combine(shared, "full"));
        File.WriteAllText(Path.Combine(shared, "full", "f"), "f");
        Directory.CreateSymbolicLink(Path.Combine(shared, "leakdir"), secret);
        Directory.CreateSymbolicLink(Path.Combine(shared, "emptylink"), Path.Combine(secret, "empty"));
        await using var conn = await DialAsync(pair);
        await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, false).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await conn.Channel.ReceiveAsync()).Type);
        Assert.Equal(ErrorCode.PermissionDenied, await RefusalAsync(conn, FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.RemoveEmptyFolders, string.Empty, ["gone"])));
        Assert.True(Directory.Exists(Path.Combine(shared, "gone")));

        pair.B.Node.Store.SetShare("open", pair.A.Node.Identity.Id, Haul.State.ShareAccess.ReadWrite);
        await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open("open", string.Empty, true).Encode().WrittenMemory);
        Assert.Equal(FrameType.FolderOk, (await conn.Channel.ReceiveAsync()).Type);
        Assert.Equal(ErrorCode.UnsafePath, await RefusalAsync(conn, FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.RemoveEmptyFolders, string.Empty, ["leakdir/empty"])));
        Assert.Equal(ErrorCode.UnsafePath, await RefusalAsync(conn, FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.RemoveEmptyFolders, string.Empty, ["emptylink"])));

        await conn.Channel.SendAsync(FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.RemoveEmptyFolders, string.Empty, ["full", "gone"]).WrittenMemory);
        var done = await conn.Channel.ExpectAsync(FrameType.Done);
        Assert.Equal(1, FolderMessages.DecodeDone(done.Payload));
        Assert.False(Directory.Exists(Path.Combine(shared, "gone")));
        Assert.True(File.Exists(Path.Combine(shared, "full", "f")));
        Assert.True(Directory.Exists(Path.Combine(secret, "empty")), "nothing behind a link is removed");
        Assert.True(new DirectoryInfo(Path.Combine(shared, "emptylink")).LinkTarget is not null, "the link itself stays");
    }
}
