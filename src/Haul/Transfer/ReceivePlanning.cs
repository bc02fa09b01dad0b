namespace Haul.Transfer;

/// <summary>What the planner decided: each chunk's state (the need list is what stays Needed), how many files were in place, and the bytes taken from this node instead of the wire.</summary>
internal sealed record ReceivePlanning(ChunkStates States, int FilesInPlace, long ReusedBytes);
