using System.Security.Cryptography;
using Haul.Content;
using Haul.Security;
using Haul.Transfer;
using Haul.Transport;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class ChunkAssemblerTests
{
    private const int PieceSize = 1000;

    // Chunk 0: 2,500 bytes (pieces of 1,000, 1,000, 500); chunk 1: 1,000 bytes (one piece).
    private static readonly ChunkInfo[] Chunks = [new(default, 2500), new(default, 1000)];

    private static MemoryBudget.Account Budget(long limit = 1 << 20) =>
        new MemoryBudget(limit, limit).Open(NodeId.FromHash(SHA256.HashData("peer"u8)));

    [Theory]
    [InlineData(0u, 0u, 1000, true, 0)]
    [InlineData(0u, 2000u, 500, true, 2)] // the short last piece
    [InlineData(0u, 2000u, 1000, false, -1)] // ... at full length
    [InlineData(0u, 1500u, 1000, false, -1)] // off a piece boundary
    [InlineData(0u, 3000u, 1000, false, -1)] // past the chunk
    [InlineData(2u, 0u, 1000, false, -1)] // no such chunk
    [InlineData(0xFFFFFFFFu, 0u, 1000, false, -1)]
    [InlineData(1u, 0xFFFFFC18u, 1000, false, -1)] // an offset near 2^32 (a multiple of the piece size)
    public void APayload_IsPlacedOnlyWhereThePlanHasThatPiece(uint chunk, uint offset, int payload, bool fits, int piece)
    {
        var asm = new ChunkAssembler(Chunks, PieceSize, null, 0);
        Assert.Equal(fits, asm.TryLocate(new DataHeader(chunk, offset, 0), payload, out int c, out int p));
        Assert.Equal(piece, p);
        Assert.Equal(fits ? (int)chunk : -1, c);
    }

    [Fact]
    public void AChunk_IsUnderWayFromItsFirstPiece_UntilItIsWhole()
    {
        using var budget = Budget();
        var assembler = new ChunkAssembler(Chunks, PieceSize, budget, 1 << 20);
        var asm = assembler.Rent(0)!;
        Assert.Equal(4096, budget.Held); // counted as rented: a power of two
        assembler.Start(asm);
        Assert.True(assembler.TryGet(0, out var same) && ReferenceEquals(asm, same));

        Assert.False(assembler.Mark(asm, 2));
        Assert.Equal(3, asm.SeenUpTo);
        Assert.False(assembler.Mark(asm, 0));
        Assert.Equal([asm], assembler.Partial);
        Assert.True(assembler.Mark(asm, 1));
        Assert.Empty(assembler.Partial);
        Assert.False(assembler.TryGet(0, out _));
        Assert.Equal(4096, budget.Held); // the whole chunk's buffer goes on to the writer, still counted
    }

    [Fact]
    public void OverBudget_NothingIsRented_AndReleasedOrSupersededChunksGiveTheirShareBack()
    {
        using var budget = Budget();
        var assembler = new ChunkAssembler(Chunks, PieceSize, budget, 5000);
        var a = assembler.Rent(0)!;
        Assert.Null(assembler.Rent(1)); // 4,096 + 1,024 > 5,000
        assembler.Release(a);
        Assert.Equal(0, budget.Held);

        a = assembler.Rent(0)!;
        assembler.Start(a);
        assembler.Mark(a, 0);
        assembler.DropWhere(c => c == 1);
        Assert.Single(assembler.Partial);
        assembler.DropWhere(c => c == 0);
        Assert.Empty(assembler.Partial);
        Assert.Equal(0, budget.Held);

        Assert.Null(new ChunkAssembler(Chunks, PieceSize, null, 1 << 20).Rent(0)); // no budget: nothing
    }
}
