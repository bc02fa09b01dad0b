using Haul.Operations;
using Haul.Sync;

namespace Haul.Node;

/// <summary>
/// Turns what the user typed into an end, as rclone reads remotes: "s3://bucket/prefix" is object
/// storage, "name:path" (no leading '/' or '.') is a peer's folder, anything else a local path.
/// </summary>
internal static class SyncEnds
{
    public static bool IsPeer(string spec, out string peer, out string path)
    {
        var e = string.IsNullOrEmpty(spec) ? null : Operations.EndSpec.Parse(spec);
        (peer, path) = e is { Kind: Operations.EndKind.Peer } ? (e.Peer, e.Path) : (string.Empty, string.Empty);
        return e is { Kind: Operations.EndKind.Peer };
    }

    /// <summary>
    /// Opens the end <paramref name="spec"/> names: s3://bucket/prefix, peer:folder/path (through
    /// <paramref name="node"/> when the caller runs one, else the node at <paramref name="home"/>), or a local path.
    /// </summary>
    /// <param name="followLinks">-L/--copy-links for a local end (the user's own tree); ignored for peer and S3 ends, whose names are never followed.</param>
    public static async Task<ISyncEnd> OpenAsync(string spec, ITreeIndex index, S3Config s3, string home, HaulNode? node, bool write, CancellationToken ct, bool followLinks = false)
    {
        var end = EndSpec.Parse(spec);
        switch (end.Kind)
        {
            case EndKind.S3:
                return S3End.Open(spec, s3, index);
            case EndKind.Peer when node is not null:
                return await PeerEnd.OpenAsync(node, end.Peer, end.Path, write, spec, ct).ConfigureAwait(false);
            case EndKind.Peer:
                if (!Security.NodeIdentity.Exists(home))
                {
                    throw new HaulException(ErrorCode.UnknownPeer, $"unknown remote '{end.Peer}:' (this node has no peers yet, and it is not s3://)", "run 'haul init' and pair with 'haul peer add' or 'haul join'; write ./" + spec + " for a local path with ':'");
                }

                return await PeerEnd.OpenAsync(home, end.Peer, end.Path, write, spec, ct).ConfigureAwait(false);
            default:
                return new LocalEnd(spec, index) { FollowLinks = followLinks };
        }
    }

    /// <summary>Refuses local ends that overlap (a sync into its own source would copy or delete itself).</summary>
    public static void CheckOverlap(LocalEnd source, LocalEnd dest, string? backupDir)
    {
        if (Inside(source.Root, dest.Root) || Inside(dest.Root, source.Root))
        {
            throw new HaulException(ErrorCode.Usage, $"source {source.Display} and destination {dest.Display} overlap", "sync into a folder outside the source (and not above it)");
        }

        if (backupDir is not null)
        {
            string b = Path.GetFullPath(backupDir).TrimEnd('/');
            if (Inside(b, dest.Root) || Inside(dest.Root, b) || Inside(b, source.Root) || Inside(source.Root, b))
            {
                throw new HaulException(ErrorCode.Usage, $"--backup-dir {backupDir} overlaps the source or destination", "put the backup folder beside the destination, not inside it");
            }
        }
    }

    private static bool Inside(string inner, string outer) =>
        inner == outer || inner.StartsWith(outer + "/", StringComparison.Ordinal);

}
