using System.CommandLine;
using Haul.Node;

namespace Haul.Cli.Commands;

internal static class PairingCommands
{
    public static Command Invite()
    {
        var address = new Option<string?>("--address") { Description = "HOST:PORT the other node should dial (default: this node's serve address)" };
        var ttl = new Option<double>("--ttl-hours") { Description = "Hours until the token expires", DefaultValueFactory = _ => 24 };
        var cmd = new Command("invite", "Print a one-time token that lets another node pair with this one") { address, ttl };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            double hours = pr.GetValue(ttl);
            if (hours <= 0 || hours > 24 * 30)
            {
                throw new HaulException(ErrorCode.Usage, $"--ttl-hours {hours} is out of range", "use a value between 0 and 720");
            }

            using var node = Cli.OpenNode(pr);
            var token = node.Invite(pr.GetValue(address), TimeSpan.FromHours(hours));
            Console.Error.WriteLine($"one-time token for {token.Address}, valid until {token.Expires:u}; on the other node run: haul join TOKEN");
            Console.Out.WriteLine(token.Encode());
            return Task.FromResult(0);
        }));
        return cmd;
    }

    public static Command Join()
    {
        var token = new Argument<string>("token") { Description = "The token 'haul invite' printed" };
        var name = new Option<string?>("--name") { Description = "Local name for the inviting peer (default: its own name)" };
        var cmd = new Command("join", "Pair with the node that issued TOKEN; both then trust each other") { token, name };
        cmd.SetAction((pr, ct) => Cli.Guard(async () =>
        {
            using var node = Cli.OpenNode(pr);
            var peer = await node.JoinAsync(pr.GetValue(token)!, pr.GetValue(name), ct).ConfigureAwait(false);
            Console.Out.WriteLine($"paired with {peer.Name} ({peer.Id}) at {peer.Address}");
            return 0;
        }));
        return cmd;
    }
}
