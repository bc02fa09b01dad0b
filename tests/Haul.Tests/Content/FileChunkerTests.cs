using Haul.Content;

namespace Haul.Tests.Content;

[Trait("Category", "Unit")]
public sealed class FileChunkerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("haul-chunker-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void BlockwiseChunking_MatchesChunkingTheWholeBuffer()
    {
        // Larger than one read block, so cuts must carry across block edges.
        var data = new byte[70 * 1024 * 1024];
        new Random(5).NextBytes(data);
        string path = Path.Combine(_dir, "f.bin");
        File.WriteAllBytes(path, data);
        var cdc = new FastCdc();
        var chunks = FileChunker.Chunk(path, data.Length, cdc);

        var expected = new List<ChunkInfo>();
        int pos = 0;
        while (pos < data.Length)
        {
            int n = cdc.NextCut(data.AsSpan(pos), true);
            expected.Add(new ChunkInfo(Hash256.Of(data.AsSpan(pos, n)), n));
            pos += n;
        }

        Assert.Equal(expected, chunks);
    }
}
