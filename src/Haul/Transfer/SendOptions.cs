namespace Haul.Transfer;

/// <summary>Per-send knobs; defaults fill a LAN.</summary>
internal sealed record SendOptions
{
    /// <summary>Skip UDP and move data on the TLS connection.</summary>
    public bool ForceTcp { get; init; }

    /// <summary>How long to wait for the receiver to answer UDP probes before falling back to TCP.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public double MaxRateBytesPerSec { get; init; } = 5e9;

    public double MinRateBytesPerSec { get; init; } = 1e6;

    public double InitialRateBytesPerSec { get; init; } = 100e6;

    /// <summary>Send UDP here instead of the address the receiver gives (a relay, a NAT mapping).</summary>
    public System.Net.IPEndPoint? UdpOverride { get; init; }
}
