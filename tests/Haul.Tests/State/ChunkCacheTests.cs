using Haul.Content;
using Haul.State;
using Haul.Tests.Support;

namespace Haul.Tests.State;

/// <summary>The chunk-list cache: a hit only while the file's stat and the chunking parameters are the same.</summary>
[Trait("Category", "Unit")]
public sealed class ChunkCacheTests
{
    [Fact]
    public void ChunkFile_ReadsOnce_ThenAnswersFromTheCache_UntilTheFileChanges()
    {
        using var tmp = new TempDir();
        string f = Path.Combine(tmp.Path, "w.bin");
        Trees.WriteRandom(f, 3_000_000, 1);
        using var cache = new ChunkCache(Path.Combine(tmp.Path, "chunks.db"));
        var cdc = new FastCdc();

        var first = cache.ChunkFile(f, 3_000_000, cdc);
        Assert.Equal((0L, 1L), (cache.Hits, cache.Misses));
        cache.Flush(); // puts are written in the background
        var again = cache.ChunkFile(f, 3_000_000, cdc);
        Assert.Equal(first, again);
        Assert.Equal(1, cache.Hits);

        // Other chunking parameters: a miss, not someone else's cut points.
        _ = cache.ChunkFile(f, 3_000_000, new FastCdc(64 * 1024, 256 * 1024, 1024 * 1024));
        Assert.Equal(2, cache.Misses);
        cache.Flush();

        // Same size, new content and time: the stat no longer matches, so it is read again.
        Trees.WriteRandom(f, 3_000_000, 2);
        File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(1));
        var changed = cache.ChunkFile(f, 3_000_000, cdc);
        Assert.Equal(3, cache.Misses);
        Assert.NotEqual(first[0].Hash, changed[0].Hash);
        Assert.Equal(FileChunker.Chunk(f, 3_000_000, cdc), changed);

        // Durable across instances.
        cache.Flush();
        using var reopened = new ChunkCache(Path.Combine(tmp.Path, "chunks.db"));
        Assert.Equal(changed, reopened.ChunkFile(f, 3_000_000, cdc));
        Assert.Equal(1, reopened.Hits);
    }

    [Fact]
    public void Locate_FindsChunksOfAnyFilePut_AndForgetsAFilesOldChunksWhenItIsPutAgain()
    {
        using var tmp = new TempDir();
        using var cache = new ChunkCache(Path.Combine(tmp.Path, "chunks.db"));
        var cdc = new FastCdc();
        string a = Path.Combine(tmp.Path, "a.bin");
        Trees.WriteRandom(a, 2_000_000, 1);
        var chunksA = cache.ChunkFile(a, 2_000_000, cdc);
        cache.Flush();
        var unknown = Hash256.Of([1, 2, 3]);

        var found = cache.Locate([chunksA[1].Hash, unknown]);
        Assert.False(found.ContainsKey(unknown));
        Assert.Equal([(a, (long)chunksA[0].Length)], found[chunksA[1].Hash]);

        Trees.WriteRandom(a, 2_000_000, 2);
        File.SetLastWriteTimeUtc(a, DateTime.UtcNow.AddMinutes(1));
        var now = cache.ChunkFile(a, 2_000_000, cdc);
        cache.Flush();
        Assert.Empty(cache.Locate([chunksA[1].Hash]));
        Assert.Single(cache.Locate([now[0].Hash]));
    }

    [Fact]
    public void Locate_AnswersForManyHashes_AcrossItsQueryBatches()
    {
        // 1,234 files of one chunk each: more than two full batches of 500 keys (one prepared query,
        // reused) and a shorter last one, asked twice so the reused query is bound again.
        using var tmp = new TempDir();
        using var cache = new ChunkCache(Path.Combine(tmp.Path, "chunks.db"));
        var cdc = new FastCdc();
        var wanted = new List<(Hash256 Hash, string Path)>();
        for (int i = 0; i < 1234; i++)
        {
            string f = Path.Combine(tmp.Path, "f" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Trees.WriteRandom(f, 1000, i);
            wanted.Add((cache.ChunkFile(f, 1000, cdc).Single().Hash, f));
        }

        cache.Flush();
        for (int round = 0; round < 2; round++)
        {
            var ask = wanted.Select(w => w.Hash).Append(Hash256.Of([9, 9, (byte)round])).ToList();
            var found = cache.Locate(ask);
            Assert.Equal(wanted.Count, found.Count);
            foreach (var (hash, path) in wanted)
            {
                Assert.Contains((path, 0L), found[hash]);
            }
        }
    }
}
