using System.Buffers;

namespace Haul.Transfer;

/// <summary>
/// Chunk-sized buffers shared by the sender and receiver paths. What it retains is bounded by the
/// in-flight budgets (sender window, receiver reassembly), not by the bucket size: a small bucket
/// would drop and reallocate thousands of small-file buffers per second.
/// </summary>
internal static class BufferPool
{
    public static readonly ArrayPool<byte> Chunks = ArrayPool<byte>.Create(maxArrayLength: 8 * 1024 * 1024, maxArraysPerBucket: 4096);
}
