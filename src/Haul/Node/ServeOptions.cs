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

    /// <summary>Connections open at once on the control port, in total.</summary>
    internal int MaxConnections { get; init; } = 256;

    /// <summary>Connections not yet known to come from a paired peer (in the TLS handshake, before HELLO, or joining), in total.</summary>
    internal int MaxUnauthenticated { get; init; } = 64;

    /// <summary>Connections not yet known to come from a paired peer, per remote address.</summary>
    internal int MaxUnauthenticatedPerAddress { get; init; } = 8;

    /// <summary>Connections open at once from one paired peer (a sync holds two or three; jobs may run several).</summary>
    internal int MaxConnectionsPerPeer { get; init; } = 32;

    /// <summary>Transfers one peer may send into this node at once (sends and pushes); more get TransferBusy (27).</summary>
    internal int MaxReceivesPerPeer { get; init; } = 8;

    /// <summary>Pulls of this node's folders one peer may have served at once; more get TransferBusy (27).</summary>
    internal int MaxSendsPerPeer { get; init; } = 4;

    /// <summary>How long a peer may leave a running transfer without moving it before it ends (<see cref="Haul.Transfer.StallWatch"/>).</summary>
    internal TimeSpan StallTimeout { get; init; } = Haul.Transfer.ReceiveSession.DefaultStallTimeout;

    /// <summary>From TCP accept to the end of the TLS handshake.</summary>
    internal TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// From the end of the TLS handshake to a paired peer's HELLO. Long: a sender dials while it scans
    /// and sends HELLO with its first request, keeping the connection for up to 2 minutes of scanning.
    /// </summary>
    internal TimeSpan HelloTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>From the end of the TLS handshake to an unpaired node's HELLO and JOIN, both.</summary>
    internal TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a paired connection may wait between requests (not inside a transfer, whose control
    /// channel is legitimately silent for a whole UDP data phase). Generous: a sync's request connection
    /// waits while both sides are listed and compared.
    /// </summary>
    internal TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A frame whose header has arrived gets this long before it must keep <see cref="FrameMinBytesPerSecond"/>.</summary>
    internal TimeSpan FrameGrace { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The slowest a frame's payload may arrive after <see cref="FrameGrace"/>: below it, the sender is dripping it (slowloris).</summary>
    internal int FrameMinBytesPerSecond { get; init; } = 1024;

    /// <summary>Negotiate only the first protocol revision ("haul/1"), as a node built before "haul/1.1" does: for tests of mixed versions.</summary>
    internal bool FirstRevisionOnly { get; init; }
}
