namespace Haul.Content;

/// <summary>A manifest together with where each of its chunks lives on this node.</summary>
internal sealed record ScannedTree(Manifest Manifest, ChunkLocation[] Locations, string SourcePath, int SkippedSpecialFiles);
