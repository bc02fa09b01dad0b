using System.Net;
using Haul.Jobs;
using Haul.Node;
using Haul.Security;
using Haul.Sync;
using Haul.Transfer;
using Microsoft.Extensions.Logging;

namespace Haul.Cli.Api;

/// <summary>Starts the REST API next to the node in 'haul serve', and runs pulls for it.</summary>
internal static class ApiHost
{
    /// <summary>--api: "off", ADDRESS:PORT, or null for 127.0.0.1 and the control port + 1.</summary>
    public static IPEndPoint? ParseEndpoint(string? spec, IPEndPoint control, bool allowRemote)
    {
        if (spec is "off" or "none")
        {
            return null;
        }

        IPEndPoint ep;
        if (spec is null)
        {
            ep = new IPEndPoint(IPAddress.Loopback, control.Port == 0 ? 0 : control.Port + 1);
        }
        else if (!IPEndPoint.TryParse(spec, out ep!) || (ep.Port == 0 && !spec.EndsWith(":0", StringComparison.Ordinal)))
        {
            throw new HaulException(ErrorCode.Usage, $"--api '{spec}' is not ADDRESS:PORT", "use e.g. 127.0.0.1:7401, or 'off'");
        }

        if (!IPAddress.IsLoopback(ep.Address) && !allowRemote)
        {
            throw new HaulException(ErrorCode.Usage, $"--api {ep} is not a loopback address", "add --api-allow-remote to expose the API on the network (the token is then the only guard; use TLS in front)");
        }

        return ep;
    }

    /// <param name="explicitEndpoint">The user named the address: failing to bind it is an error. Otherwise a busy default port falls back to a free one (recorded for the CLI).</param>
    public static async Task<ApiServer> StartAsync(NodeHost host, IPEndPoint endpoint, bool explicitEndpoint, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("haul.api");
        string home = host.Home;
        var node = host.Node;
        ApiToken.Ensure(home);
        var ctx = new ApiContext(host, endpoint);
        ApiServer server;
        try
        {
            server = await ApiServer.StartAsync(ctx, endpoint).ConfigureAwait(false);
        }
        catch (IOException) when (!explicitEndpoint && endpoint.Port != 0)
        {
            endpoint = new IPEndPoint(endpoint.Address, 0);
            ctx.Endpoint = endpoint;
            server = await ApiServer.StartAsync(ctx, endpoint).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new HaulException(ErrorCode.Usage, $"cannot listen on {endpoint} for the API: {ex.Message}", "pick another --api port, or --api off", ex);
        }

        var bound = IPEndPoint.Parse(new Uri(server.Address).Authority);
        ctx.Endpoint = bound;
        node.Store.SetMeta("api", bound.ToString());
        host.Announce(bound.ToString());
        Log.ApiServing(log, bound.ToString(), ApiToken.PathFor(home));
        if (!IPAddress.IsLoopback(bound.Address))
        {
            Log.ApiExposed(log, bound.ToString());
        }

        return server;
    }
}
