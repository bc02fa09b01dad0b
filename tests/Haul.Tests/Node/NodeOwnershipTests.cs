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
}
