using System.Net;
using Haul.Security;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>
/// Where a sender's UDP data goes. A receiver may name a host in its ACCEPT / EARLY_ACCEPT ('serve
/// --udp-advertise'), but a peer, even one that may only read (a PULL makes this node the sender), must
/// not aim this node's packets at a host of its choosing. So the data goes to the control connection's
/// address, and to a named host only when this node chose it too: the host of the address it stores for
/// the peer, or one listed in HAUL_UDP_HOSTS. Any other named host is ignored and logged.
/// </summary>
internal static class UdpTarget
{
    /// <summary>Comma-separated hosts or addresses a receiver may name for UDP, set on the sending side.</summary>
    public const string HostsVariable = "HAUL_UDP_HOSTS";

    public static IReadOnlyList<string> HostsFromEnvironment() =>
        Environment.GetEnvironmentVariable(HostsVariable) is { Length: > 0 } v
            ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];

    /// <param name="named">The host the receiver named; empty for none.</param>
    /// <param name="control">The control connection's remote address.</param>
    /// <param name="peerAddress">HOST:PORT this node stores for the peer, if any.</param>
    /// <param name="allowed">Hosts configured on this node (<see cref="HostsVariable"/>).</param>
    public static async ValueTask<IPAddress> ResolveAsync(string named, IPAddress control, string? peerAddress, IReadOnlyList<string> allowed, ILogger log, CancellationToken cancellationToken)
    {
        if (named.Length == 0)
        {
            return control;
        }

        bool literal = IPAddress.TryParse(named, out var ip);
        if (literal && Normal(ip!).Equals(Normal(control)))
        {
            return control;
        }

        if (!ChosenHere(named, peerAddress, allowed))
        {
            Log.UdpHostIgnored(log, NodeName.Printable(named), control);
            return control;
        }

        if (literal)
        {
            return ip!;
        }

        var addresses = await Dns.GetHostAddressesAsync(named, cancellationToken).ConfigureAwait(false);
        return addresses.Length > 0 ? addresses[0] : control;
    }

    private static bool ChosenHere(string named, string? peerAddress, IReadOnlyList<string> allowed)
    {
        foreach (string a in allowed)
        {
            if (string.Equals(a, named, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return peerAddress is not null && string.Equals(HostPort.Split(peerAddress).Host, named, StringComparison.OrdinalIgnoreCase);
    }

    private static IPAddress Normal(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
