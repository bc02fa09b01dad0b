using Haul.Security;

namespace Haul.State;

/// <summary>
/// The node catalog: its settings, peers, invites, folders and shares, the transfer journal with chunk
/// progress, and receipts. <see cref="NodeStore"/> is the zero-setup SQLite implementation; another
/// (PostgreSQL for a hub) implements this and passes <c>NodeCatalogConformance</c> in the tests.
/// </summary>
internal interface INodeCatalog : IDisposable
{
    string? GetMeta(string key);

    void SetMeta(string key, string value);

    void AddPeer(NodeId id, string name, string? address);

    /// <summary>
    /// Stops trusting a peer and revokes its folder grants with it, in one transaction: grants are keyed
    /// by node ID, so kept ones would come back, unasked, when the same node is added again under any name.
    /// </summary>
    bool RemovePeer(string nameOrId);

    IReadOnlyList<PeerRecord> ListPeers();

    PeerRecord? FindPeer(string nameOrId);

    PeerRecord? FindPeer(NodeId id);

    /// <summary><paramref name="wanted"/>, or wanted-2, -3, … if another node already has that name (shortened so the result stays within <see cref="NodeName.MaxLength"/>).</summary>
    string UniquePeerName(string wanted, NodeId id);

    void AddInvite(byte[] secretHash, DateTimeOffset expires);

    bool HasPendingInvites();

    /// <summary>Marks an unused, unexpired invite used; true only for the first caller.</summary>
    bool ConsumeInvite(byte[] secretHash);

    /// <summary>Finds or creates the journal row of a transfer; the same manifest from the same peer resumes.</summary>
    long BeginTransfer(string direction, string manifestHash, string peerId, string root, long files, long bytes);

    void FinishTransfer(long id, string state);

    string? TransferState(long id);

    HashSet<int> DoneChunks(long transferId);

    /// <summary>Records verified, written chunks in one transaction (the caller batches them).</summary>
    void MarkChunksDone(long transferId, IReadOnlyList<int> chunks);

    void ForgetChunks(long transferId);

    void AddReceipt(ReceiptRecord r);

    IReadOnlyList<ReceiptRecord> ListReceipts();

    /// <summary>Adds or re-points a named folder; its shares are kept.</summary>
    void SetFolder(string name, string path);

    bool RemoveFolder(string name);

    /// <summary>Grants (or changes) a peer's access to a folder; <see cref="ShareAccess.None"/> revokes it.</summary>
    void SetShare(string folder, NodeId peer, ShareAccess access);

    FolderRecord? FindFolder(string name);

    IReadOnlyList<FolderRecord> ListFolders();
}
