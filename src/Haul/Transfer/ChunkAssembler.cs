using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using Haul.Content;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>
/// The receiver's chunks being assembled from DATA packets: where a packet's payload belongs, the
/// buffers rented for chunks under way (counted against the session's share of the assembly budget),
/// and which pieces each holds. Knows nothing of chunk states, keys or the writer: the session checks
/// a chunk is still needed, opens the packet into <see cref="ChunkAssembly.Buffer"/> and hands a whole
/// chunk on.
/// </summary>
/// <remarks>Owned by the UDP receive thread.</remarks>
internal sealed class ChunkAssembler
{
    private readonly ChunkInfo[] _chunks;
    private readonly MemoryBudget.Account? _budget;
    private readonly long _limit;
    private readonly Dictionary<int, ChunkAssembly> _byChunk = [];
    private readonly List<ChunkAssembly> _partial = [];

    /// <param name="chunks">The manifest's chunks (their lengths place the pieces).</param>
    /// <param name="pieceSize">The session's piece size, from START or the proposal.</param>
    /// <param name="budget">The session's share of the receive budget; null: nothing can be assembled.</param>
    /// <param name="limit">What this session may hold of it.</param>
    public ChunkAssembler(ChunkInfo[] chunks, int pieceSize, MemoryBudget.Account? budget, long limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceSize, DataFormat.MinPiece);
        _chunks = chunks;
        PieceSize = pieceSize;
        _budget = budget;
        _limit = limit;
    }

    public int PieceSize { get; }

    /// <summary>Chunks under way, in the order they started (the ACK reports them from here).</summary>
    public IReadOnlyList<ChunkAssembly> Partial => _partial;

    /// <summary>
    /// Where a DATA payload of <paramref name="payload"/> bytes belongs: a chunk of the manifest, an
    /// offset on a piece boundary inside it, and exactly that piece's length. False for anything else.
    /// </summary>
    public bool TryLocate(in DataHeader d, int payload, out int chunk, out int piece)
    {
        (chunk, piece) = (-1, -1);
        if (d.Chunk >= (uint)_chunks.Length)
        {
            return false;
        }

        int length = _chunks[d.Chunk].Length;
        if (d.Offset % (uint)PieceSize != 0 || d.Offset >= (uint)length)
        {
            return false;
        }

        int p = (int)(d.Offset / (uint)PieceSize);
        if (payload != DataFormat.PieceLength(length, p, PieceSize))
        {
            return false;
        }

        (chunk, piece) = ((int)d.Chunk, p);
        return true;
    }

    public bool TryGet(int chunk, [NotNullWhen(true)] out ChunkAssembly? assembly) => _byChunk.TryGetValue(chunk, out assembly);

    /// <summary>
    /// A buffer for a chunk's first piece, counted as rented (a power of two, so many small chunks are not
    /// undercounted). Null over budget: the sender resends after its timeout. Not under way until <see cref="Start"/>.
    /// </summary>
    public ChunkAssembly? Rent(int chunk)
    {
        int length = _chunks[chunk].Length;
        long cost = (long)BitOperations.RoundUpToPowerOf2((uint)length);
        if (_budget?.TryTake(cost, _limit) != true)
        {
            return null;
        }

        var buffer = BufferPool.Chunks.Rent(length);
        if (buffer.Length > cost && !_budget.TryTake(buffer.Length - cost, _limit))
        {
            // A larger array from the pool: counted at its size, or given back.
            _budget.Return(cost);
            BufferPool.Chunks.Return(buffer);
            return null;
        }

        return new ChunkAssembly(chunk, length, buffer, PieceSize);
    }

    /// <summary>A rented chunk's first piece is in: it is under way.</summary>
    public void Start(ChunkAssembly assembly)
    {
        _byChunk[assembly.Chunk] = assembly;
        _partial.Add(assembly);
    }

    /// <summary>Gives back the buffer and budget of an assembly that will not be handed on (rented in vain, or superseded).</summary>
    public void Release(ChunkAssembly assembly)
    {
        _budget?.Return(assembly.Buffer.Length);
        BufferPool.Chunks.Return(assembly.Buffer);
    }

    /// <summary>Records <paramref name="piece"/> as in. Returns true when that made the chunk whole: it is no longer under way, and its buffer is the caller's.</summary>
    public bool Mark(ChunkAssembly assembly, int piece)
    {
        assembly.Mark(piece);
        assembly.Received++;
        if (piece + 1 > assembly.SeenUpTo)
        {
            assembly.SeenUpTo = piece + 1;
        }

        if (assembly.Received < assembly.Pieces)
        {
            return false;
        }

        _byChunk.Remove(assembly.Chunk);
        _partial.Remove(assembly);
        return true;
    }

    /// <summary>Lets go (buffer and budget) of the chunks under way that <paramref name="superseded"/> says came another way (whole over TCP).</summary>
    public void DropWhere(Func<int, bool> superseded)
    {
        for (int i = _partial.Count - 1; i >= 0; i--)
        {
            var asm = _partial[i];
            if (superseded(asm.Chunk))
            {
                _partial.RemoveAt(i);
                _byChunk.Remove(asm.Chunk);
                Release(asm);
            }
        }
    }
}
