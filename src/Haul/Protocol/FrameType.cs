namespace Haul.Protocol;

/// <summary>Control-channel frame types (docs/protocol.md). Values are wire constants.</summary>
internal enum FrameType : byte
{
    Hello = 1,
    Error = 2,
    Bye = 3,
    Offer = 10,
    ManifestPart = 11,
    Accept = 12,
    Start = 13,
    ChunkDone = 14,
    ChunkBad = 15,
    ChunkData = 16,
    Receipt = 17,
    EarlyAccept = 18,
    Join = 20,
    JoinOk = 21,
    FolderOpen = 30,
    FolderOk = 31,
    ListRequest = 32,
    ListPart = 33,
    ListEnd = 34,
    Remove = 35,
    Done = 36,
    SetTimes = 37,
    Pull = 38,
    HashRequest = 39,
    Hashes = 40,
    ReuseHint = 41,
}
