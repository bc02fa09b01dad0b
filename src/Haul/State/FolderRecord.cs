namespace Haul.State;

/// <summary>A named folder this node offers to peers, and who may read ("ro") or write ("rw") it.</summary>
internal sealed record FolderRecord(string Name, string Path, IReadOnlyList<(string PeerId, string Access)> Shares)
{
    /// <summary>The access a peer has: "rw", "ro", or null for none.</summary>
    public string? AccessOf(Security.NodeId peer) => Shares.FirstOrDefault(s => s.PeerId == peer.Canonical).Access;
}
