namespace Haul.Transfer;

/// <summary>Where one receive places its files and what it may take from what is already here.</summary>
/// <param name="Root">Where the manifest's paths are placed: the peer's inbox folder, or a shared folder's target.</param>
internal sealed record ReceiveOptions(string Root)
{
    /// <summary>Also index files under the tree's top folder that the manifest does not name (moved or renamed
    /// content). A sync sends only changed files, so there that would re-read the whole unchanged tree: off.</summary>
    public bool ReuseUnnamed { get; init; } = true;

    /// <summary>Further files (full paths) whose chunks may be reused: a sync passes the files it is about to
    /// delete, so a renamed or moved file is rebuilt from its old copy instead of crossing the wire.</summary>
    public IReadOnlyList<string> ReuseFrom { get; init; } = [];

    /// <summary>May answer an OFFER for a fresh delivery (nothing under its name yet) before the manifest
    /// arrives, so the sender starts a round trip or more earlier: inbox deliveries. A sync's deltas: off.</summary>
    public bool EarlyAccept { get; init; }
}
