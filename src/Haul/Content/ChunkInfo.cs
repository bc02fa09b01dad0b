namespace Haul.Content;

/// <summary>One distinct chunk of a manifest: its SHA-256 and length.</summary>
internal readonly record struct ChunkInfo(Hash256 Hash, int Length);
