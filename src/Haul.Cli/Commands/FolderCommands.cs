using System.CommandLine;
using System.Text.RegularExpressions;
using Haul.Node;
using Haul.State;

namespace Haul.Cli.Commands;

/// <summary>
/// Named folders this node offers to peers ("haul folder add datasets /data/training --share lab-b:rw").
/// Peers reach them as "THIS-NODE:datasets/path" in copy, sync and check; the owner enforces each share.
/// </summary>
internal static class FolderCommands
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
            HaulNode.CheckFolderName(n);
            using var node = Cli.OpenNode(pr);
            string full = node.SetFolder(n, pr.GetValue(path)!, pr.GetValue(share) ?? []).Path;
            Console.Out.WriteLine($"folder {n} -> {full}{Describe(node, n)}");
            return Task.FromResult(0);
        }));

        var shareName = new Argument<string>("name") { Description = "Folder name" };
        var grantsArg = new Argument<string[]>("grants") { Description = "PEER:ro, PEER:rw, or PEER:none to revoke", Arity = ArgumentArity.OneOrMore };
        var shareCmd = new Command("share", "Change who may use a folder") { shareName, grantsArg };
        shareCmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            string n = pr.GetValue(shareName)!;
            node.ShareFolder(n, pr.GetValue(grantsArg) ?? []);

            Console.Out.WriteLine($"folder {n}{Describe(node, n)}");
            return Task.FromResult(0);
        }));

        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var list = new Command("list", "List named folders and their shares") { json };
        list.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var node = Cli.OpenNode(pr);
            var peers = node.Store.ListPeers().ToDictionary(p => p.Id.Canonical, p => p.Name);
            foreach (var f in node.Store.ListFolders())
            {
                var shares = f.Shares.Select(s => $"{(peers.TryGetValue(s.PeerId, out var pn) ? pn : s.PeerId)}:{s.Access.Wire()}").ToList();
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
            using var node = Cli.OpenNode(pr);
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

    private static string Describe(HaulNode node, string folder)
    {
        var f = node.Store.FindFolder(folder)!;
        var peers = node.Store.ListPeers().ToDictionary(p => p.Id.Canonical, p => p.Name);
        return f.Shares.Count == 0 ? " (not shared)" : " shared with " + string.Join(", ", f.Shares.Select(s => $"{(peers.TryGetValue(s.PeerId, out var pn) ? pn : s.PeerId)} ({s.Access.Wire()})"));
    }
}
