using Haul.Node;

namespace Haul.Tests.Support;

/// <summary>The common setup: lab-b serving on loopback, lab-a paired with it through invite/join.</summary>
internal sealed class NodePair : IAsyncDisposable
{
    private NodePair(TestNode a, TestNode b)
    {
        A = a;
        B = b;
    }

    /// <summary>The sender, lab-a.</summary>
    public TestNode A { get; }

    /// <summary>The serving receiver, lab-b.</summary>
    public TestNode B { get; }

    /// <summary>Where lab-a's sends land on lab-b.</summary>
    public string Landed(string name) => Path.Combine(B.Inbox, "lab-a", name);

    public static async Task<NodePair> StartAsync(TempDir tmp, ServeOptions? serve = null)
    {
        var b = TestNode.Create(tmp.Path, "lab-b").Serve(serve);
        var a = TestNode.Create(tmp.Path, "lab-a");
        await b.PairWith(a);
        return new NodePair(a, b);
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
