using System.Diagnostics.Metrics;

namespace Haul;

/// <summary>
/// The node's instruments (<see cref="Meter"/> "Haul"): what moved, how well, and how jobs ended.
/// 'haul serve' exports them at /metrics in Prometheus text format; any MeterListener or
/// OpenTelemetry pipeline can read them too.
/// </summary>
internal static class HaulMetrics
{
    public static readonly Meter Meter = new("Haul", "1.0");

    public static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("haul.bytes.sent", "By", "Chunk payload bytes sent (after the delta)");

    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("haul.bytes.received", "By", "Chunk payload bytes received and verified");

    public static readonly Counter<long> WireBytesSent = Meter.CreateCounter<long>("haul.wire.bytes.sent", "By", "Bytes sent on the data channel, headers and retransmissions included");

    public static readonly Counter<long> PacketsRetransmitted = Meter.CreateCounter<long>("haul.packets.retransmitted", "{packet}", "Data packets sent again");

    public static readonly Counter<long> PacketsSent = Meter.CreateCounter<long>("haul.packets.sent", "{packet}", "Data packets sent");

    public static readonly Counter<long> Transfers = Meter.CreateCounter<long>("haul.transfers", "{transfer}", "Finished transfers by direction and outcome");

    public static readonly Counter<long> JobRuns = Meter.CreateCounter<long>("haul.job.runs", "{run}", "Job runs by outcome");

    private static double _goodput;
    private static double _rttSeconds;
    private static double _lossRatio;

    static HaulMetrics()
    {
        Meter.CreateObservableGauge("haul.goodput", () => Volatile.Read(ref _goodput), "By/s", "Goodput of the last finished send (file bytes / elapsed)");
        Meter.CreateObservableGauge("haul.rtt", () => Volatile.Read(ref _rttSeconds), "s", "Smoothed round-trip time of the last UDP send");
        Meter.CreateObservableGauge("haul.loss", () => Volatile.Read(ref _lossRatio), "1", "Retransmitted share of the packets of the last UDP send");
    }

    public static void SendFinished(long chunkBytes, long wireBytes, long packets, long retransmitted, long fileBytes, TimeSpan elapsed, double srttMs)
    {
        BytesSent.Add(chunkBytes);
        WireBytesSent.Add(wireBytes);
        PacketsSent.Add(packets);
        PacketsRetransmitted.Add(retransmitted);
        Transfers.Add(1, new KeyValuePair<string, object?>("direction", "out"), new KeyValuePair<string, object?>("outcome", "done"));
        Volatile.Write(ref _goodput, fileBytes / Math.Max(elapsed.TotalSeconds, 1e-3));
        if (packets > 0)
        {
            Volatile.Write(ref _rttSeconds, srttMs / 1000);
            Volatile.Write(ref _lossRatio, (double)retransmitted / packets);
        }
    }

    public static void ReceiveFinished(long chunkBytes)
    {
        BytesReceived.Add(chunkBytes);
        Transfers.Add(1, new KeyValuePair<string, object?>("direction", "in"), new KeyValuePair<string, object?>("outcome", "done"));
    }

    public static void TransferFailed(string direction) =>
        Transfers.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("outcome", "failed"));

    public static void JobFinished(int exitCode) =>
        JobRuns.Add(1, new KeyValuePair<string, object?>("outcome", exitCode == 0 ? "ok" : "failed"));
}
