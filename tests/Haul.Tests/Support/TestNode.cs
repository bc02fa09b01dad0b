using System.Net;
using Haul.Node;

namespace Haul.Tests.Support;

/// <summary>A real node with its own home directory, optionally serving on a loopback port.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private TestNode(string home, HaulNode node, CapturingLoggerProvider logs)
    {
        Home = home;
        Node = node;
        Logs = logs;
    }

    public string Home { get; }

    public HaulNode Node { get; }

    public CapturingLoggerProvider Logs { get; }

    public NodeServer? Server { get; private set; }

    public string Address => Server!.LocalEndPoint.ToString();

    public string Inbox => Server!.Inbox;

    public static TestNode Create(string root, string name)
    {
        var logs = new CapturingLoggerProvider();
        string home = Path.Combine(root, name);
        return new TestNode(home, HaulNode.Init(home, name, logs), logs);
    }

    public TestNode Serve(ServeOptions? options = null)
    {
        Server = Node.CreateServer((options ?? new ServeOptions()) with { Listen = new IPEndPoint(IPAddress.Loopback, 0) });
        Server.Start();
        return this;
    }

    /// <summary>Pairs <paramref name="client"/> with this serving node through invite/join.</summary>
    public async Task PairWith(TestNode client)
    {
        var token = Node.Invite(Address, TimeSpan.FromMinutes(5));
        await client.Node.JoinAsync(token.Encode());
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        Node.Dispose();
    }
}
