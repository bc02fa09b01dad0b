using System.Net;
using Haul.Jobs;
using Haul.Node;
using Haul.Security;

namespace Haul.Cli.Api;

/// <summary>What the API's handlers work on: the node, its transfers and jobs, where it listens, and the token.</summary>
internal sealed class ApiContext(NodeHost host, IPEndPoint endpoint)
{
    private readonly Lock _lock = new();
    private string? _token;
    private DateTime _tokenStamp;

    /// <summary>The running node: every endpoint is an adapter over its operations.</summary>
    public NodeHost Host { get; } = host;

    public string Home => Host.Home;

    public HaulNode Node => Host.Node;

    public TransferManager Transfers => Host.Transfers;

    public IJobStore Jobs => Host.Jobs;

    public JobScheduler? Scheduler => Host.Scheduler;

    public IPEndPoint Endpoint { get; set; } = endpoint;

    public IPEndPoint? PeerEndpoint => Host.Server.LocalEndPoint;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The current token: re-read when the file changes, so 'haul token rotate' takes effect without a restart.</summary>
    public string Token()
    {
        string path = ApiToken.PathFor(Home);
        var stamp = File.GetLastWriteTimeUtc(path);
        lock (_lock)
        {
            if (_token is null || stamp != _tokenStamp)
            {
                _token = ApiToken.Ensure(Home);
                _tokenStamp = File.GetLastWriteTimeUtc(path);
            }

            return _token;
        }
    }
}
