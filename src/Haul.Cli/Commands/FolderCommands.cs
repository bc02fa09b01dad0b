using System.CommandLine;
using System.Text.RegularExpressions;
using Haul.Node;

namespace Haul.Cli.Commands;

/// <summary>
/// Named folders this node offers to peers ("haul folder add datasets /data/training --share lab-b:rw").
/// Peers reach them as "THIS-NODE:datasets/path" in copy, sync and check; the owner enforces each share.
/// </summary>
internal static partial class FolderCommands
{
    public static Command Create()
    {
        var cmd = new Command("folder", "Name local folders that peers may read (ro) or write (rw)");
        var name = new Argument<string>("name") { Description = "Folder name, as peers will write it: PEER:NAME/path" };
        var path = new Argument<string>("path") { Description = "The local folder" };
        var share = new Option<string[]>("--share") { Description = "PEER:ro or PEER:rw (comma-separated or repeated)", AllowMultipleArgumentsPerToken = true };
        var add = new Command("add", "Add (or re-point) a named folder, optionally sharing it") { name, path, share };
        add.SetAction((pr, ct) => Cli.Guard(() =>
        {
            string n = pr.GetValue(name)!;
            CheckName(n);

            string full = Path.GetFullPath(pr.GetValue(path)!);
            if (!Directory.Exists(full))
            {
                throw new HaulException(ErrorCode.PathNotFound, $"folder not found: {pr.GetValue(path)}", "create it first, or check the path");
            }

            using var node = HaulNode.Open(HaulHome.Resolve(pr.GetValue(Cli.Home)));
            var grants = ParseShares(node, pr.GetValue(share) ?? []);
            node.Store.SetFolder(n, full);
            foreach (var (peer, access) in grants)
            {
                node.Store.SetShare(n, peer.Id, access);
            }

            Console.Out.WriteLine($"folder {n} -> {full}{Describe(node, n)}");
            return Task.FromResult(0);
        }));

        var shareName = new Argument<string>("name") { Description = "Folder name" };
        var grantsArg = new Argument<string[]>("grants") { Description = "PEER:ro, PEER:rw, or PEER:none to revoke", Arity = ArgumentArity.OneOrMore };
        var shareCmd = new Command("share", "Change who may use a folder") { shareName, grantsArg };
        shareCmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = HaulNode.Open(HaulHome.Resolve(pr.GetValue(Cli.Home)));
            string n = pr.GetValue(shareName)!;
            _ = node.Store.FindFolder(n) ?? throw new HaulException(ErrorCode.UnknownFolder, $"no folder '{n}'", "see 'haul folder list'");
            foreach (var (peer, access) in ParseShares(node, pr.GetValue(grantsArg) ?? []))
            {
                node.Store.SetShare(n, peer.Id, access);
            }

            Console.Out.WriteLine($"folder {n}{Describe(node, n)}");
            return Task.FromResult(0);
        }));

        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var list = new Command("list", "List named folders and their shares") { json };
        list.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = HaulNode.Open(HaulHome.Resolve(pr.GetValue(Cli.Home)));
            var peers = node.Store.ListPeers().ToDictionary(p => p.Id.Canonical, p => p.Name);
            foreach (var f in node.Store.ListFolders())
            {
                var shares = f.Shares.Select(s => $"{(peers.TryGetValue(s.PeerId, out var pn) ? pn : s.PeerId)}:{s.Access}").ToList();
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("name", f.Name), ("path", f.Path), ("shares", string.Join(',', shares)))
                    : $"{f.Name,-16} {f.Path}  {(shares.Count == 0 ? "(not shared)" : string.Join(' ', shares))}");
            }

            return Task.FromResult(0);
        }));

        var removeName = new Argument<string>("name") { Description = "Folder name" };
        var remove = new Command("remove", "Stop offering a folder (its files are untouched)") { removeName };
        remove.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = HaulNode.Open(HaulHome.Resolve(pr.GetValue(Cli.Home)));
            if (!node.Store.RemoveFolder(pr.GetValue(removeName)!))
            {
                throw new HaulException(ErrorCode.UnknownFolder, $"no folder '{pr.GetValue(removeName)}'", "see 'haul folder list'");
            }

            Console.Out.WriteLine($"removed folder {pr.GetValue(removeName)} (files left in place)");
            return Task.FromResult(0);
        }));

        cmd.Subcommands.Add(add);
        cmd.Subcommands.Add(shareCmd);
        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(remove);
        return cmd;
    }

    internal static void CheckName(string n)
    {
        if (!FolderName().IsMatch(n))
        {
            throw new HaulException(ErrorCode.Usage, $"'{n}' is not a folder name", "use letters, digits, '.', '_' and '-' (up to 64), starting with a letter or digit");
        }
    }

    internal static List<(State.PeerRecord Peer, string? Access)> ParseShares(HaulNode node, IEnumerable<string> specs)
    {
        var result = new List<(State.PeerRecord, string?)>();
        foreach (var spec in specs.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            int colon = spec.LastIndexOf(':');
            string access = colon < 0 ? string.Empty : spec[(colon + 1)..];
            if (colon <= 0 || access is not ("ro" or "rw" or "none"))
            {
                throw new HaulException(ErrorCode.Usage, $"share '{spec}' is not PEER:ro, PEER:rw or PEER:none", "write it like lab-b:rw,edge-7:ro");
            }

            var peer = node.Store.FindPeer(spec[..colon]) ?? throw new HaulException(ErrorCode.UnknownPeer, $"unknown peer '{spec[..colon]}' in --share", "add it first with 'haul peer add' or 'haul invite'/'haul join'");
            result.Add((peer, access == "none" ? null : access));
        }

        return result;
    }

    private static string Describe(HaulNode node, string folder)
    {
        var f = node.Store.FindFolder(folder)!;
        var peers = node.Store.ListPeers().ToDictionary(p => p.Id.Canonical, p => p.Name);
        return f.Shares.Count == 0 ? " (not shared)" : " shared with " + string.Join(", ", f.Shares.Select(s => $"{(peers.TryGetValue(s.PeerId, out var pn) ? pn : s.PeerId)} ({s.Access})"));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex FolderName();
}
