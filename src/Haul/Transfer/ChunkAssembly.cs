namespace Haul.Transfer;

/// <summary>
/// Reassembly of one chunk from packets on the receiver. Owned by the UDP receive thread until
/// complete, then handed to the writer, which returns <see cref="Buffer"/> to the pool.
/// </summary>
internal sealed class ChunkAssembly
{
    public ChunkAssembly(int chunk, int length, byte[] buffer, int pieceSize)
    {
        Chunk = chunk;
        Length = length;
        Buffer = buffer;
        Pieces = DataFormat.PieceCount(length, pieceSize);
        Bits = new ulong[(Pieces + 63) / 64];
    }

    public int Chunk { get; }

    public int Length { get; }

    public byte[] Buffer { get; }

    public int Pieces { get; }

    public ulong[] Bits { get; }

    public int Received { get; set; }

    public int SeenUpTo { get; set; }

    public bool Has(int piece) => (Bits[piece >> 6] & (1UL << (piece & 63))) != 0;

    public void Mark(int piece) => Bits[piece >> 6] |= 1UL << (piece & 63);
}
