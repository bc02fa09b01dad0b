namespace Haul.Transfer;

/// <summary>A fully received chunk awaiting verification and writing. <see cref="Pooled"/> says whether Buffer goes back to <see cref="BufferPool"/>.</summary>
internal readonly record struct CompletedChunk(int Chunk, byte[] Buffer, int Length, bool Pooled);
