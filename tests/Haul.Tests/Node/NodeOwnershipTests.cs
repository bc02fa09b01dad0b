using System.Net;
using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>One instance of each store per process (issue 19): the server uses the node's own, and leaves it open when it stops.</summary>
[Collection("nodes")]
public sealed class NodeOwnershipTests
{
    [Fact]
    public async Task TheServer_UsesTheNodesChunkIndex_AndStoppingItLeavesTheIndexUsable()
    {
        using var tmp = new TempDir();
        var node = TestNode.Create(tmp.Path, "lab-b").Serve();
        Assert.Same(node.Node.ChunkCache, node.Server!.Chunks);
        await node.Server.DisposeAsync();

        // Still open for the node's own sends and pulls after the server stopped.
        string f = tmp.Sub("f.bin");
        File.WriteAllBytes(f, new byte[100]);
        node.Node.ChunkCache.Flush();
        node.Node.Dispose();
    }

    [Fact]
    public async Task ANodeHost_OwnsEachPartOnce_AndStopsThemAll_SoTheHomeOpensAgain()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("h");
        HaulNode.Init(home, "lab-h").Dispose();
        var options = new ServeOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0) };
        var host = NodeHost.Start(home, options, new CapturingLoggerProvider());
        await using (host)
        {
            Assert.Same(host.Node.ChunkCache, host.Server.Chunks);
            Assert.NotEqual(0, host.Server.LocalEndPoint.Port);
            Assert.Empty(host.Transfers.List());
            Assert.Empty(host.Jobs.List());
        }

        // Everything was let go: the same home serves again in the same process.
        await using var again = NodeHost.Start(home, options, new CapturingLoggerProvider());
        Assert.Equal("lab-h", again.Node.Name);
    }
}
