using System.CommandLine;
using Haul.Node;
using Haul.Operations;
using Haul.Transfer;
using Haul.Transfer.Congestion;
using Microsoft.Extensions.Logging;

namespace Haul.Cli.Commands;

internal static class SendCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "File or folder to send" };
        var peer = new Argument<string>("peer") { Description = "Peer name or node ID" };
        var json = new Option<bool>("--json") { Description = "Progress and result as JSON lines on stdout" };
        var tcp = new Option<bool>("--tcp") { Description = "Move data over the TLS connection instead of UDP" };
        var maxRate = new Option<string?>("--max-rate") { Description = "Upper bound on the sending rate, e.g. 200M (bytes/s) or 800Mbit" };
        var minRate = new Option<string?>("--min-rate") { Description = "Never pace below this rate, e.g. 10Mbit" };
        var mode = new Option<string?>("--mode") { Description = "fair (share the bottleneck), background (yield to other traffic) or fixed (hold --max-rate); default: the node's policy ('haul policy'), else fair" };
        var copyLinks = new Option<bool>("--copy-links", "-L") { Description = "Follow symlinks in the folder and send what they point at as regular files (without it links are sent as links)" };
        var cmd = new Command("send", "Send a file or folder to a peer; it lands in the peer's inbox/<this node>/") { path, peer, json, tcp, maxRate, minRate, mode, copyLinks };
        cmd.SetAction((pr, ct) =>
        {
            bool asJson = pr.GetValue(json);
            return Cli.Guard(
                async () =>
                {
                    using var loggers = Logging.Create(LogLevel.Warning);
                    using var node = Cli.OpenNode(pr, loggers);
                    var request = ToRequest(pr, node.DefaultRatePolicy);
                    var renderer = new ProgressRenderer(asJson);
                    var result = await node.SendAsync(request, renderer.Report, ct).ConfigureAwait(false);
                    PrintResult(result, node, asJson, request.Rate ?? node.DefaultRatePolicy);
                    return 0;
                },
                asJson);
        });
        return cmd;
    }

    /// <summary>The typed request a 'haul send' command line names; rate flags apply on top of <paramref name="defaults"/> (the node's policy); none: the node's policy when it runs.</summary>
    internal static SendRequest ToRequest(ParseResult pr, RatePolicy defaults)
    {
        string? Opt(string name) => pr.GetValue<string?>(name);
        return new SendRequest(pr.GetValue<string>("path")!, pr.GetValue<string>("peer")!)
        {
            Tcp = pr.GetValue<bool>("--tcp"),
            CopyLinks = pr.GetValue<bool>("--copy-links"),
            Rate = Opt("--mode") is null && Opt("--min-rate") is null && Opt("--max-rate") is null ? null : RatePolicy.Parse(Opt("--mode"), Opt("--min-rate"), Opt("--max-rate"), defaults, "haul send --help"),
        };
    }

    internal static void PrintResult(SendResult r, HaulNode node, bool json, RatePolicy? policy = null)
    {
        var rc = r.Receipt;
        double secs = Math.Max(r.Elapsed.TotalSeconds, 1e-6);
        if (json)
        {
            Console.Out.WriteLine(Json.Line(
                ("type", "result"), ("ok", true), ("peer", r.PeerName), ("manifest", rc.ManifestHash.ToHex()), ("files", r.Files), ("bytes", r.Bytes),
                ("seconds", secs), ("bytesPerSec", r.Bytes / secs), ("newChunkBytes", r.ChunkBytesSent), ("reusedBytes", r.ReusedBytes),
                ("wireBytes", r.WireBytes), ("packets", r.Packets), ("retransmitted", r.Retransmitted), ("mode", r.Mode), ("rateMode", (policy ?? new RatePolicy()).Mode.ToString().ToLowerInvariant()), ("maxRateBytesPerSec", (policy ?? new RatePolicy()).MaxBytesPerSec), ("srttMs", r.SrttMs),
                ("dataStart", r.ProposedSession ? "with-offer" : r.EarlyStart ? "early-accept" : "after-accept"),
                ("receiver", rc.ReceiverId), ("deliveredAt", rc.DeliveredAt.ToString("o")), ("receiptVerified", true)));
            return;
        }

        Console.Out.WriteLine($"sent to {r.PeerName}: {r.Files} files, {Units.Bytes(r.Bytes)} in {secs:0.00} s ({Units.Bytes(r.Bytes / secs)}/s); {Units.Bytes(r.ChunkBytesSent)} new, {Units.Bytes(r.Bytes - r.ChunkBytesSent)} already there or deduplicated; {r.Mode}, {r.Retransmitted} packets resent");
        Console.Out.WriteLine($"receipt: manifest {rc.ManifestHash.ToHex()[..16]}, {rc.Files} files, {rc.Bytes} bytes, delivered {rc.DeliveredAt:u}, signed by {r.PeerName} ({Haul.Security.NodeId.Parse(rc.ReceiverId).Short}); signature verified, stored in {node.Home}");
    }
}
