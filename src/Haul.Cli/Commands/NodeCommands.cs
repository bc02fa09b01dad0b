using System.CommandLine;
using Haul.Node;
using Haul.Transfer.Congestion;

namespace Haul.Cli.Commands;

internal static class NodeCommands
{
    public static Command Init()
    {
        var name = new Option<string>("--name") { Description = "A short name for this node, as peers will see it", Required = true };
        var cmd = new Command("init", "Create this node's key pair, certificate and database; prints the node ID") { name };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            string home = Cli.HomeOf(pr);
            using var node = HaulNode.Init(home, pr.GetValue(name)!);
            Console.Error.WriteLine($"initialised node '{node.Name}' in {home}");
            Console.Out.WriteLine(node.Identity.Id.ToString());
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Id()
    {
        var cmd = new Command("id", "Print this node's ID");
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            Console.Out.WriteLine(node.Identity.Id.ToString());
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Receipts()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var cmd = new Command("receipts", "List the signed delivery receipts this node holds") { json };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            foreach (var r in node.Store.ListReceipts())
            {
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("manifest", r.ManifestHash), ("peer", r.PeerName), ("peerId", r.PeerId), ("files", r.Files), ("bytes", r.Bytes), ("deliveredAt", r.DeliveredAt.ToString("o")), ("signature", Convert.ToBase64String(r.Signature)))
                    : $"{r.DeliveredAt:u}  {r.PeerName,-12} {r.Files,8} files {Units.Bytes(r.Bytes),10}  manifest {r.ManifestHash[..16]}");
            }

            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Policy()
    {
        var mode = new Option<string?>("--mode") { Description = "fair, background or fixed" };
        var maxRate = new Option<string?>("--max-rate") { Description = "Upper bound, e.g. 200M (bytes/s) or 800Mbit" };
        var minRate = new Option<string?>("--min-rate") { Description = "Lower bound, e.g. 10Mbit" };
        var reset = new Option<bool>("--reset") { Description = "Back to the built-in default (fair, no bounds)" };
        var cmd = new Command("policy", "Show or set this node's default rate policy for transfers it sends; 'haul send' flags override it") { mode, maxRate, minRate, reset };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            string? m = pr.GetValue(mode), min = pr.GetValue(minRate), max = pr.GetValue(maxRate);
            if (pr.GetValue(reset))
            {
                node.DefaultRatePolicy = new RatePolicy();
            }

            if (m is not null || min is not null || max is not null)
            {
                node.DefaultRatePolicy = Transfer.Congestion.RatePolicy.Parse(m, min, max, node.DefaultRatePolicy, "haul policy --help");
            }

            var p = node.DefaultRatePolicy;
            string bound(double v, double none) => v == none ? "none" : $"{Units.Bytes(v)}/s ({v * 8 / 1e6:0.#} Mbit/s)";
            Console.Out.WriteLine($"mode {p.Mode.ToString().ToLowerInvariant()}, max rate {bound(p.MaxBytesPerSec, new RatePolicy().MaxBytesPerSec)}, min rate {bound(p.MinBytesPerSec, new RatePolicy().MinBytesPerSec)}");
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
