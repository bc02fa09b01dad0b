namespace Haul;

/// <summary>
/// Failures a user can hit. The numeric value is the process exit code, so keep values stable;
/// they are also carried in ERROR frames on the wire.
/// </summary>
public enum ErrorCode
{
    Internal = 1,
    Usage = 2,
    NotInitialized = 3,
    AlreadyInitialized = 4,
    UnknownPeer = 10,
    PeerUnreachable = 11,
    PathNotFound = 12,
    PermissionDenied = 13,
    DiskFull = 14,
    PeerWentAway = 15,
    CorruptData = 16,
    BadToken = 17,
    NotTrusted = 18,
    ProtocolError = 19,
    UnsafePath = 20,
    Cancelled = 21,

    /// <summary>'haul check' found differences between the two sides.</summary>
    Differences = 22,

    /// <summary>Some files of a sync or copy failed; nothing was deleted.</summary>
    SyncIncomplete = 23,

    /// <summary>The object store refused or failed a request (bucket missing, credentials wrong).</summary>
    ObjectStore = 24,

    /// <summary>The peer has no folder of that name shared with this node.</summary>
    UnknownFolder = 25,

    /// <summary>A command that talks to the local node's API found no node running.</summary>
    NodeNotRunning = 26,

    /// <summary>The same manifest is already being received (into the same place, or from the same peer): retry when it ends.</summary>
    TransferBusy = 27,

    /// <summary>Another 'haul serve' already runs on this home (its PID and addresses are named).</summary>
    NodeAlreadyRunning = 28,
}
