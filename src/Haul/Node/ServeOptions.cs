using System.Net;

namespace Haul.Node;

/// <summary>Options of 'haul serve'.</summary>
internal sealed record ServeOptions
{
    public IPEndPoint Listen { get; init; } = new(IPAddress.Any, 7400);

    /// <summary>Where trusted peers' sends land: INBOX/&lt;peer name&gt;/. Default HAUL_HOME/inbox.</summary>
    public string? Inbox { get; init; }

    /// <summary>Do not open the UDP data socket (data then flows over TLS).</summary>
    public bool NoUdp { get; init; }

    /// <summary>Host senders should send UDP to, when it differs from the control address.</summary>
    public string? UdpAdvertiseHost { get; init; }

    /// <summary>Negotiate only the first protocol revision ("haul/1"), as a node built before "haul/1.1" does: for tests of mixed versions.</summary>
    internal bool FirstRevisionOnly { get; init; }
}
