using Haul.Security;
using Haul.State;
using Haul.Tests.Support;

namespace Haul.Tests.State;

/// <summary>
/// What any node catalog must do, whatever stores it: run against every implementation of
/// <see cref="INodeCatalog"/> (today SQLite, <see cref="SqliteNodeCatalogTests"/>; a PostgreSQL one for
/// hubs derives from this class too). Each test opens the catalog in a fresh folder, and some open it again
/// to check what must outlive the process.
/// </summary>
public abstract class NodeCatalogConformance
{
    internal abstract INodeCatalog Open(string dir);

    private static NodeId Id(byte b)
    {
        var h = new byte[32];
        h[0] = b;
        h[31] = (byte)(b * 7);
        return NodeId.FromHash(h);
    }

    [Fact]
    public void Settings_AreKept_AndOverwritten()
    {
        using var tmp = new TempDir();
        using (var c = Open(tmp.Path))
        {
            Assert.Null(c.GetMeta("name"));
            c.SetMeta("name", "lab-a");
            c.SetMeta("name", "lab-b");
        }

        using var again = Open(tmp.Path);
        Assert.Equal("lab-b", again.GetMeta("name"));
    }

    [Fact]
    public void Peers_AreFoundByNameOrId_NamedUniquely_AndRemovingOneRevokesItsShares()
    {
        using var tmp = new TempDir();
        using var c = Open(tmp.Path);
        c.AddPeer(Id(1), "lab-b", "192.0.2.1:7400");
        c.AddPeer(Id(2), "edge-7", null);
        Assert.Equal(Id(1), c.FindPeer("lab-b")!.Id);
        Assert.Equal("edge-7", c.FindPeer(Id(2))!.Name);
        Assert.Equal("edge-7", c.FindPeer(Id(2).ToString())!.Name);
        Assert.Null(c.FindPeer("nobody"));
        Assert.Equal(2, c.ListPeers().Count);
        Assert.NotEqual("lab-b", c.UniquePeerName("lab-b", Id(3)));
        Assert.Equal("lab-b", c.UniquePeerName("lab-b", Id(1)));

        c.SetFolder("models", tmp.Sub("m"));
        c.SetShare("models", Id(1), ShareAccess.ReadWrite);
        Assert.Equal(ShareAccess.ReadWrite, c.FindFolder("models")!.AccessOf(Id(1)));
        Assert.True(c.RemovePeer("lab-b"));
        Assert.False(c.RemovePeer("lab-b"));
        Assert.Equal(ShareAccess.None, c.FindFolder("models")!.AccessOf(Id(1)));

        // Paired again later under any name: no grant comes back.
        c.AddPeer(Id(1), "again", null);
        Assert.Equal(ShareAccess.None, c.FindFolder("models")!.AccessOf(Id(1)));
    }

    [Fact]
    public void AnInvite_IsConsumedOnce_AndNotAfterItExpires()
    {
        using var tmp = new TempDir();
        using var c = Open(tmp.Path);
        Assert.False(c.HasPendingInvites());
        byte[] live = [1, 2, 3], old = [4, 5, 6];
        c.AddInvite(live, DateTimeOffset.UtcNow.AddMinutes(5));
        c.AddInvite(old, DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.True(c.HasPendingInvites());
        Assert.False(c.ConsumeInvite(old));
        Assert.True(c.ConsumeInvite(live));
        Assert.False(c.ConsumeInvite(live));
        Assert.False(c.ConsumeInvite([9, 9, 9]));
    }

    [Fact]
    public void TheTransferJournal_KeepsChunkProgressAcrossAReopen_UntilItIsForgotten()
    {
        using var tmp = new TempDir();
        long id;
        using (var c = Open(tmp.Path))
        {
            id = c.BeginTransfer("in", "ab12", Id(1).Canonical, "dataset", 3, 300);
            Assert.Equal("running", c.TransferState(id));
            c.MarkChunksDone(id, [0, 2]);
            c.MarkChunksDone(id, [2, 5]);
        }

        using var again = Open(tmp.Path);
        Assert.Equal([0, 2, 5], again.DoneChunks(id).Order());
        again.FinishTransfer(id, "done");
        Assert.Equal("done", again.TransferState(id));
        again.ForgetChunks(id);
        Assert.Empty(again.DoneChunks(id));
        Assert.Null(again.TransferState(id + 1000));
    }

    [Fact]
    public void Receipts_AreKeptWithTheirSignedBytes()
    {
        using var tmp = new TempDir();
        var at = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        using (var c = Open(tmp.Path))
        {
            c.AddReceipt(new ReceiptRecord("ab12", Id(1).Canonical, "lab-b", 3, 300, at, [1, 2, 3], [9, 8]));
        }

        using var again = Open(tmp.Path);
        var r = Assert.Single(again.ListReceipts());
        Assert.Equal(("ab12", "lab-b", 3L, 300L), (r.ManifestHash, r.PeerName, r.Files, r.Bytes));
        Assert.Equal(at, r.DeliveredAt);
        Assert.Equal([1, 2, 3], r.Body);
        Assert.Equal([9, 8], r.Signature);
    }

    [Fact]
    public void Folders_ArePointed_Shared_Revoked_AndRemoved()
    {
        using var tmp = new TempDir();
        using var c = Open(tmp.Path);
        c.AddPeer(Id(1), "lab-b", null);
        c.SetFolder("models", "/srv/a");
        c.SetFolder("models", "/srv/b");
        c.SetShare("models", Id(1), ShareAccess.ReadOnly);
        c.SetShare("models", Id(1), ShareAccess.ReadWrite);
        var f = c.FindFolder("models")!;
        Assert.Equal("/srv/b", f.Path);
        Assert.Equal(ShareAccess.ReadWrite, f.AccessOf(Id(1)));
        c.SetShare("models", Id(1), ShareAccess.None);
        Assert.Equal(ShareAccess.None, c.FindFolder("models")!.AccessOf(Id(1)));
        Assert.Single(c.ListFolders());
        Assert.True(c.RemoveFolder("models"));
        Assert.Null(c.FindFolder("models"));
        Assert.False(c.RemoveFolder("models"));
    }
}

/// <summary>The SQLite node catalog (HAUL_HOME/haul.db) against the conformance suite.</summary>
[Trait("Category", "Unit")]
public sealed class SqliteNodeCatalogTests : NodeCatalogConformance
{
    internal override INodeCatalog Open(string dir) => new NodeStore(Path.Combine(dir, "haul.db"));
}
