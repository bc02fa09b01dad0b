namespace Haul.State;

/// <summary>What a peer may do with a shared folder (stored and shown as "ro", "rw"; none is no share).</summary>
internal enum ShareAccess
{
    None,
    ReadOnly,
    ReadWrite,
}

internal static class ShareAccessNames
{
    public static string Wire(this ShareAccess a) => a switch
    {
        ShareAccess.ReadOnly => "ro",
        ShareAccess.ReadWrite => "rw",
        _ => "none",
    };

    /// <summary>"ro", "rw" or "none"; anything else (a damaged row, a typo) is false.</summary>
    public static bool TryParse(string? text, out ShareAccess access)
    {
        (bool ok, access) = text switch
        {
            "ro" => (true, ShareAccess.ReadOnly),
            "rw" => (true, ShareAccess.ReadWrite),
            "none" => (true, ShareAccess.None),
            _ => (false, ShareAccess.None),
        };
        return ok;
    }
}

/// <summary>A named folder this node offers to peers, and who may read or write it.</summary>
internal sealed record FolderRecord(string Name, string Path, IReadOnlyList<(string PeerId, ShareAccess Access)> Shares)
{
    /// <summary>The access a peer has (<see cref="ShareAccess.None"/> when the folder is not shared with it).</summary>
    public ShareAccess AccessOf(Security.NodeId peer) => Shares.FirstOrDefault(s => s.PeerId == peer.Canonical).Access;
}
