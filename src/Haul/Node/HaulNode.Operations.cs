using System.Text.RegularExpressions;
using Haul.Security;
using Haul.State;
using Haul.Transport;

namespace Haul.Node;

/// <summary>
/// Peer and folder operations: one implementation, with its checks, for every surface (the CLI's
/// 'peer add' and 'folder add/share', the REST API's POST /peers and /folders, MCP). The surfaces
/// only read their input and print the result.
/// </summary>
internal sealed partial class HaulNode
{
    /// <summary>Trusts a peer by node ID, under a name (the name rule of <see cref="NodeName"/>) and an optional HOST:PORT.</summary>
    public PeerRecord TrustPeer(string id, string name, string? address)
    {
        var nodeId = NodeId.Parse(id);
        NodeName.Check(name, "peer name");
        if (address is not null)
        {
            HostPort.Split(address);
        }

        if (nodeId == Identity.Id)
        {
            throw new HaulException(ErrorCode.Usage, "that is this node's own ID", "add the other node's ID");
        }

        Store.AddPeer(nodeId, name, address);
        return Store.FindPeer(nodeId)!;
    }

    /// <summary>Adds or re-points a named folder at an existing directory, with grants ("peer:ro", "peer:rw", "peer:none"; comma-separated allowed).</summary>
    public FolderRecord SetFolder(string name, string path, IEnumerable<string> shares)
    {
        CheckFolderName(name);
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            // A share is a folder a peer lists, pulls from and pushes into; one file is a send.
            throw new HaulException(ErrorCode.Usage, $"{path} is a file; a shared folder is a folder", $"share the folder that holds it ('haul folder add {name} {Path.GetDirectoryName(full)}'), or send the file with 'haul send {path} PEER'");
        }

        if (!Directory.Exists(full))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"folder not found: {path}", "create it first, or check the path");
        }

        var grants = ParseShares(shares);
        Store.SetFolder(name, full);
        foreach (var (peer, access) in grants)
        {
            Store.SetShare(name, peer.Id, access);
        }

        return Store.FindFolder(name)!;
    }

    /// <summary>Changes who may use a named folder.</summary>
    public FolderRecord ShareFolder(string name, IEnumerable<string> shares)
    {
        _ = Store.FindFolder(name) ?? throw new HaulException(ErrorCode.UnknownFolder, $"no folder '{name}'", "see 'haul folder list'");
        foreach (var (peer, access) in ParseShares(shares))
        {
            Store.SetShare(name, peer.Id, access);
        }

        return Store.FindFolder(name)!;
    }

    public static void CheckFolderName(string name)
    {
        if (!FolderName().IsMatch(name))
        {
            throw new HaulException(ErrorCode.Usage, $"'{name}' is not a folder name", "use letters, digits, '.', '_' and '-' (up to 64), starting with a letter or digit");
        }
    }

    /// <summary>Grants as typed, all checked before any is stored: each names a known peer and ro, rw or none (none: revoke).</summary>
    private List<(PeerRecord Peer, ShareAccess Access)> ParseShares(IEnumerable<string> specs)
    {
        var result = new List<(PeerRecord, ShareAccess)>();
        foreach (var spec in specs.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            int colon = spec.LastIndexOf(':');
            if (colon <= 0 || !ShareAccessNames.TryParse(spec[(colon + 1)..], out var access))
            {
                throw new HaulException(ErrorCode.Usage, $"share '{spec}' is not PEER:ro, PEER:rw or PEER:none", "write it like lab-b:rw,edge-7:ro");
            }

            var peer = Store.FindPeer(spec[..colon]) ?? throw new HaulException(ErrorCode.UnknownPeer, $"unknown peer '{spec[..colon]}' in --share", "add it first with 'haul peer add' or 'haul invite'/'haul join'");
            result.Add((peer, access));
        }

        return result;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex FolderName();
}
