namespace Haul.Content;

/// <summary>Where a chunk's bytes can be read on the sending node.</summary>
internal readonly record struct ChunkLocation(string FilePath, long Offset);
