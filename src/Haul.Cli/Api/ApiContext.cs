using System.Net;
using Haul.Jobs;
using Haul.Node;
using Haul.Security;

namespace Haul.Cli.Api;

/// <summary>What the API's handlers work on: the node, its transfers and jobs, where it listens, and the token.</summary>
internal sealed class ApiContext(string home, HaulNode node, TransferManager transfers, IJobStore jobs, JobScheduler? scheduler, IPEndPoint endpoint, IPEndPoint? peerEndpoint)
{
    private readonly Lock _lock = new();
    private string? _token;
    private DateTime _tokenStamp;

    public string Home { get; } = home;

    public HaulNode Node { get; } = node;

    public TransferManager Transfers { get; } = transfers;

    public IJobStore Jobs { get; } = jobs;

    public JobScheduler? Scheduler { get; } = scheduler;

    public IPEndPoint Endpoint { get; set; } = endpoint;

    public IPEndPoint? PeerEndpoint { get; } = peerEndpoint;

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
