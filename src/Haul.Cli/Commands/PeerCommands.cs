using System.CommandLine;
using Haul.Node;
using Haul.Security;

namespace Haul.Cli.Commands;

internal static class PeerCommands
{
    public static Command Create()
    {
        var cmd = new Command("peer", "Manage trusted peers");
        var id = new Argument<string>("node-id") { Description = "The peer's node ID ('haul id' on that node)" };
        var addr = new Argument<string?>("address") { Description = "HOST:PORT where it serves (optional for peers that only dial in)", Arity = ArgumentArity.ZeroOrOne };
        var name = new Option<string>("--name") { Description = "Local name for the peer", Required = true };
        var add = new Command("add", "Trust a peer") { id, addr, name };
        add.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            var peer = node.TrustPeer(pr.GetValue(id)!, pr.GetValue(name)!, pr.GetValue(addr));
            Console.Out.WriteLine($"trusting {peer.Name} ({peer.Id})");
            return Task.FromResult(0);
        }));

        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var list = new Command("list", "List trusted peers") { json };
        list.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            foreach (var p in node.Store.ListPeers())
            {
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("name", p.Name), ("id", p.Id.ToString()), ("address", p.Address))
                    : $"{p.Name,-16} {p.Id}  {p.Address ?? "(dials in)"}");
            }

            return Task.FromResult(0);
        }));

        var who = new Argument<string>("peer") { Description = "Name or node ID" };
        var remove = new Command("remove", "Stop trusting a peer") { who };
        remove.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            if (!node.Store.RemovePeer(pr.GetValue(who)!))
            {
                throw new HaulException(ErrorCode.UnknownPeer, $"unknown peer '{pr.GetValue(who)}'", "see 'haul peer list'");
            }

            Console.Out.WriteLine($"removed {pr.GetValue(who)}");
            return Task.FromResult(0);
        }));

        cmd.Subcommands.Add(add);
        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(remove);
        return cmd;
    }
}
