namespace Haul.Transfer;

/// <summary>Receiver-side life of one chunk. Moves forward only, except Complete → Needed after a failed verification.</summary>
internal enum ChunkState : byte
{
    NotNeeded = 0,
    Needed = 1,
    Assembling = 2,
    Complete = 3,
    Done = 4,
}
