using Haul.Jobs;
using Haul.Sync;
using Microsoft.Extensions.Logging;

namespace Haul.Node;

/// <summary>
/// A running node: one opened home and the parts that serve it, each made once per process and owned
/// here: the node (identity, catalog, chunk index), its server (control port and UDP), the job store and
/// scheduler, the tree index, and the transfer manager that runs every transfer for clients and jobs. `haul serve` builds it, and so
/// can a test; surfaces (the REST API, MCP through it, the dashboard) are put on top of it.
/// </summary>
internal sealed class NodeHost : IAsyncDisposable
{
    private readonly ServeLock _lock;

    private NodeHost(ServeLock serveLock, HaulNode node, ITreeIndex index, NodeServer server, IJobStore jobs, JobScheduler scheduler, TransferManager transfers)
    {
        _lock = serveLock;
        Node = node;
        Index = index;
        Server = server;
        Jobs = jobs;
        Scheduler = scheduler;
        Transfers = transfers;
    }

    public HaulNode Node { get; }

    /// <summary>The tree index (hashes of local files by path, size and time) every run between ends here uses.</summary>
    public ITreeIndex Index { get; }

    public NodeServer Server { get; }

    public IJobStore Jobs { get; }

    public JobScheduler Scheduler { get; }

    public TransferManager Transfers { get; }

    public string Home => Node.Home;

    /// <summary>
    /// Opens the node at <paramref name="home"/> and starts serving. Jobs run in this process as
    /// transfers (<see cref="RunJobAsync"/>); jobs saved as command lines by older versions are first
    /// given a typed spec by <paramref name="readCommand"/> (the CLI's grammar; send's rate flags on top of
    /// the node's policy), when one is given.
    /// </summary>
    public static NodeHost Start(string home, ServeOptions options, ILoggerFactory loggers, Func<IReadOnlyList<string>, Transfer.Congestion.RatePolicy, Operations.TransferRequest>? readCommand = null)
    {
        var node = HaulNode.Open(home, loggers);
        ServeLock? serveLock = null;
        TreeIndex? index = null;
        NodeServer? server = null;
        JobStore? jobs = null;
        try
        {
            serveLock = ServeLock.Acquire(home);
            index = TreeIndex.ForHome(home);
            server = node.CreateServer(options);
            jobs = new JobStore(HaulHome.DatabasePath(home));
            if (readCommand is not null)
            {
                JobMigration.Migrate(jobs, argv => readCommand(argv, node.DefaultRatePolicy), loggers.CreateLogger("haul.jobs"));
            }

            var transfers = new TransferManager(node, index, loggers.CreateLogger("haul.transfers"));
            var scheduler = new JobScheduler(jobs, (j, _, c) => JobRunner.RunAsync(transfers, j, c), TimeProvider.System, loggers.CreateLogger("haul.jobs"));
            server.Start();
            serveLock.Write($"pid {Environment.ProcessId}, listening on {server.LocalEndPoint}");
            scheduler.Start();
            return new NodeHost(serveLock, node, index, server, jobs, scheduler, transfers);
        }
        catch
        {
            server?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            jobs?.Dispose();
            index?.Dispose();
            serveLock?.Dispose();
            node.Dispose();
            throw;
        }
    }

    /// <summary>Names the API address too in what a refused second serve on this home is told.</summary>
    public void Announce(string api) => _lock.Write($"pid {Environment.ProcessId}, listening on {Server.LocalEndPoint}, API http://{api}");

    /// <summary>Runs a job now (the API's run, a manual trigger), recorded in its history like a scheduled run.</summary>
    public Task<(int ExitCode, string Message)> RunJobAsync(Job job, string trigger, CancellationToken ct) =>
        JobScheduler.RunOnceAsync(Jobs, job, trigger, (j, _, c) => JobRunner.RunAsync(Transfers, j, c), TimeProvider.System, ct);

    /// <summary>Stops in the reverse order of start: transfers, jobs, the server, then the stores.</summary>
    public async ValueTask DisposeAsync()
    {
        await Transfers.DisposeAsync().ConfigureAwait(false);
        await Scheduler.DisposeAsync().ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        Jobs.Dispose();
        Index.Dispose();
        Node.Dispose();
        _lock.Dispose();
    }
}
