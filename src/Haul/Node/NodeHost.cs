using Haul.Jobs;
using Microsoft.Extensions.Logging;

namespace Haul.Node;

/// <summary>
/// A running node: one opened home and the parts that serve it, each made once per process and owned
/// here: the node (identity, catalog, chunk index), its server (control port and UDP), the job store and
/// scheduler, and the transfer manager that runs transfers for clients. `haul serve` builds it, and so
/// can a test; surfaces (the REST API, MCP through it, the dashboard) are put on top of it.
/// </summary>
internal sealed class NodeHost : IAsyncDisposable
{
    private NodeHost(HaulNode node, NodeServer server, IJobStore jobs, JobScheduler scheduler, TransferManager transfers)
    {
        Node = node;
        Server = server;
        Jobs = jobs;
        Scheduler = scheduler;
        Transfers = transfers;
    }

    public HaulNode Node { get; }

    public NodeServer Server { get; }

    public IJobStore Jobs { get; }

    public JobScheduler Scheduler { get; }

    public TransferManager Transfers { get; }

    public string Home => Node.Home;

    /// <summary>Opens the node at <paramref name="home"/> and starts serving; <paramref name="runJob"/> runs one job (due, watched or asked for).</summary>
    public static NodeHost Start(string home, ServeOptions options, ILoggerFactory loggers, Func<Job, string, CancellationToken, Task<(int ExitCode, string Message)>> runJob)
    {
        var node = HaulNode.Open(home, loggers);
        NodeServer? server = null;
        JobStore? jobs = null;
        try
        {
            server = node.CreateServer(options);
            jobs = new JobStore(HaulHome.DatabasePath(home));
            var scheduler = new JobScheduler(jobs, runJob, TimeProvider.System, loggers.CreateLogger("haul.jobs"));
            var transfers = new TransferManager(node, loggers.CreateLogger("haul.transfers"));
            server.Start();
            scheduler.Start();
            return new NodeHost(node, server, jobs, scheduler, transfers);
        }
        catch
        {
            server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            jobs?.Dispose();
            node.Dispose();
            throw;
        }
    }

    /// <summary>Stops in the reverse order of start: transfers, jobs, the server, then the stores.</summary>
    public async ValueTask DisposeAsync()
    {
        await Transfers.DisposeAsync().ConfigureAwait(false);
        await Scheduler.DisposeAsync().ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        Jobs.Dispose();
        Node.Dispose();
    }
}
