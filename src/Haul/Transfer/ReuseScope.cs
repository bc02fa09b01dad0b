using Haul.Security;
using Haul.State;

namespace Haul.Transfer;

/// <summary>
/// Where a receiver may take a chunk from instead of the wire: only data the sending peer could read
/// already, the transfer's own destination and the folders shared with that peer (read or read-write),
/// judged after every symlink is resolved. A chunk anywhere else on the node (another peer's inbox, an
/// unshared folder, a file this node sent) crosses the wire, or a peer that knows only a chunk's hash
/// would have the node rebuild it where that peer can read it back.
/// </summary>
internal sealed class ReuseScope
{
    private readonly List<string> _roots = [];
    private readonly Dictionary<string, bool> _seen = new(StringComparer.Ordinal);

    public ReuseScope(IEnumerable<string> roots)
    {
        foreach (var root in roots)
        {
            if (Native.RealPath(root) is { } real)
            {
                _roots.Add(real.EndsWith('/') ? real : real + "/");
            }
        }
    }

    /// <summary>The destination and every folder shared with <paramref name="peer"/>.</summary>
    public static ReuseScope For(INodeCatalog store, NodeId peer, string destination)
    {
        var roots = new List<string> { destination };
        foreach (var f in store.ListFolders())
        {
            if (f.AccessOf(peer) != ShareAccess.None)
            {
                roots.Add(f.Path);
            }
        }

        return new ReuseScope(roots);
    }

    /// <summary>True when <paramref name="path"/>, resolved, lies under one of the roots (answers are remembered per path).</summary>
    public bool Allows(string path)
    {
        if (_seen.TryGetValue(path, out bool known))
        {
            return known;
        }

        bool inside = false;
        if (Native.RealPath(path) is { } real)
        {
            foreach (var root in _roots)
            {
                if (real.StartsWith(root, StringComparison.Ordinal))
                {
                    inside = true;
                    break;
                }
            }
        }

        _seen[path] = inside;
        return inside;
    }
}
