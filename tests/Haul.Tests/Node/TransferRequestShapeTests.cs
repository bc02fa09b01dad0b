using Haul.Node;
using Haul.Operations;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>Requests from an API body or a job's stored spec (damaged or edited) that the OS or the filters cannot take are refused before they run, never left "running" by an exception.</summary>
[Collection("nodes")]
public sealed class TransferRequestShapeTests
{
    [Fact]
    [Trait("Category", "Unit")]
    public void NulInAPath_OrANullFilterPattern_IsAUsageError()
    {
        var ok = TransferRequest.For(new SyncRequest(SyncMode.Sync, "/a", "/b") { Filter = new FilterSpec { Exclude = ["*.tmp"] } });
        TransferManager.CheckShape(ok);

        TransferRequest[] bad =
        [
            TransferRequest.For(new SyncRequest(SyncMode.Sync, "/a", "/b\0x")),
            TransferRequest.For(new SyncRequest(SyncMode.Copy, "/a\0", "/b")),
            TransferRequest.For(new SyncRequest(SyncMode.Sync, "/a", "/b") { Filter = new FilterSpec { Exclude = [null!, "*.tmp"] } }),
            TransferRequest.For(new SyncRequest(SyncMode.Sync, "/a", "/b") { Filter = null! }),
            TransferRequest.For(new BisyncRequest("/a", "/b") { Filter = new FilterSpec { Include = null! } }),
            TransferRequest.FromJson("""{"kind":"Sync","peer":null,"path":null,"destination":null}""")!,
            TransferRequest.FromJson("""{"kind":"Copy","peer":"","path":"/a","destination":"/b","sync":{"mode":"Copy","source":"/a","dest":"/b","filter":{"exclude":[null]}}}""")!,
        ];
        foreach (var r in bad)
        {
            Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => TransferManager.CheckShape(r)).Code);
        }
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task ARequestWithANul_IsRefusedAtStart_AndNoTransferIsLeftRunning()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("h");
        using var node = HaulNode.Init(home, "lab-n");
        using var index = TreeIndex.ForHome(home);
        await using var transfers = new TransferManager(node, index, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var r = TransferRequest.For(new SyncRequest(SyncMode.Sync, tmp.Sub("src"), tmp.Path + "/dst\0"));
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => transfers.Start(r, null)).Code);
        Assert.Empty(transfers.List());
        Assert.Equal(0, transfers.Active);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task APullIntoAFile_IsAUsageError_NotAnInternalOne()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("h");
        using var node = HaulNode.Init(home, "lab-n");
        node.TrustPeer(Haul.Security.NodeIdentity.Create(tmp.Sub("other"), "lab-o").Id.ToString(), "lab-o", null);
        using var index = TreeIndex.ForHome(home);
        await using var transfers = new TransferManager(node, index, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        string file = tmp.Sub("a-file");
        File.WriteAllText(file, "x");
        var ex = Assert.Throws<HaulException>(() => transfers.Start(new TransferRequest(TransferKind.Pull, "lab-o", "folder", file), null));
        Assert.Equal(ErrorCode.Usage, ex.Code);
        Assert.Contains("is a file", ex.Message, StringComparison.Ordinal);
    }
}
