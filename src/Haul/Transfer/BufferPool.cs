using System.Buffers;

namespace Haul.Transfer;

/// <summary>Chunk-sized buffers shared by the sender and receiver paths; bounded so idle nodes stay small.</summary>
internal static class BufferPool
{
    public static readonly ArrayPool<byte> Chunks = ArrayPool<byte>.Create(maxArrayLength: 8 * 1024 * 1024, maxArraysPerBucket: 48);
}
