using Haul.Content;
using Haul.Tests.Support;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class TempFilesTests
{
    private const UnixFileMode Mode = (UnixFileMode)0x1A4;

    // Chunk 0 is "abc", chunk 1 four zero bytes. File 0 is chunks 0, 1, 0; file 1 is chunk 1; file 2 is chunk 0 (already in place).
    private static ReceivePlan Plan() => new(new Manifest(
        [
            new ManifestEntry("t", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null),
            new ManifestEntry("t/a", EntryKind.File, Mode, 0, 10, [0, 1, 0], null),
            new ManifestEntry("t/b", EntryKind.File, Mode, 0, 4, [1], null),
            new ManifestEntry("t/c", EntryKind.File, Mode, 0, 3, [0], null),
        ],
        [new ChunkInfo(Hash256.Of("abc"u8), 3), new ChunkInfo(Hash256.Of(new byte[4]), 4)],
        [1]));

    [Fact]
    public void AChunk_IsWrittenAtEveryPlaceItHas_AndTheFilesItCompletesAreReported()
    {
        using var tmp = new TempDir();
        using var temp = new TempFiles(tmp.Path, Plan());
        bool[] inPlace = [false, false, true];

        Assert.Empty(temp.Write(0, "abc!"u8.ToArray(), inPlace)); // a pooled buffer is longer than its chunk
        Assert.False(File.Exists(temp.PathOf(2)));
        Assert.Equal([0, 1], temp.Write(1, new byte[8], inPlace));

        temp.Take(0).Dispose();
        temp.Dispose();
        Assert.Equal("abc\0\0\0\0abc"u8.ToArray(), File.ReadAllBytes(temp.PathOf(0)));
        Assert.Equal(new byte[4], File.ReadAllBytes(temp.PathOf(1))); // the zero chunk left as a hole, the file at full length
    }

    [Fact]
    public void AChunkAlreadyInTheCopies_CompletesFilesWithoutWriting()
    {
        using var tmp = new TempDir();
        using var temp = new TempFiles(tmp.Path, Plan());
        bool[] inPlace = [false, false, false];
        Assert.Equal([2], temp.Write(0, null, inPlace));
        Assert.False(File.Exists(temp.PathOf(0)));
        Assert.False(File.Exists(temp.PathOf(2)));

        using var h = temp.Take(2); // a file whose chunks were all here: opened for its finalization
        Assert.True(File.Exists(temp.PathOf(2)));
    }
}
