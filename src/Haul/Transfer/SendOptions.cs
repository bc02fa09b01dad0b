namespace Haul.Transfer;

/// <summary>Per-send knobs; defaults fill a LAN.</summary>
internal sealed record SendOptions
{
    /// <summary>Skip UDP and move data on the TLS connection.</summary>
    public bool ForceTcp { get; init; }

    /// <summary>
    /// How long to wait for the receiver to answer UDP probes before falling back to TCP. Generous: on a
    /// lossy long path the START message itself may need a TCP retransmission or two (seconds at 600 ms
    /// RTT) before the receiver listens for the session, and a wrong fallback costs far more than waiting.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// How long the receiver may leave the data phase without moving it (nothing confirmed, nothing taken)
    /// before the send ends with exit 11; the same command resumes. Zero: never.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = ReceiveSession.DefaultStallTimeout;

    /// <summary>-L/--copy-links: symlinks in the sent tree go as what they point at (see TreeScanner.Scan).</summary>
    public bool CopyLinks { get; init; }

    /// <summary>Rate mode and bounds (--mode, --min-rate, --max-rate).</summary>
    public Congestion.RatePolicy Rate { get; init; } = new();

    /// <summary>
    /// Propose the data session in the OFFER and start the data with it, a round trip before the
    /// receiver answers (fresh deliveries; a receiver that answers otherwise costs what was sent in that
    /// round trip, at most the speculative bound). On by default; folder pushes, which send deltas, turn it off.
    /// </summary>
    public bool ProposeSession { get; init; } = true;

    /// <summary>Hosts a receiver may name for UDP besides the control connection's address (<see cref="UdpTarget"/>); default from HAUL_UDP_HOSTS.</summary>
    public IReadOnlyList<string> UdpHosts { get; init; } = UdpTarget.HostsFromEnvironment();

    /// <summary>Send UDP here instead of the address the receiver gives (a relay, a NAT mapping).</summary>
    public System.Net.IPEndPoint? UdpOverride { get; init; }
}
