using Haul.Content;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.State;

/// <summary>What any tree index must do (<see cref="ITreeIndex"/>): run against every implementation.</summary>
public abstract class TreeIndexConformance
{
    internal abstract ITreeIndex Open(string dir);

    private static readonly Hash256 H1 = Hash256.Of([1]);
    private static readonly Hash256 H2 = Hash256.Of([2]);

    [Fact]
    public void AHash_IsFoundOnlyWhileTheFilesStatIsUnchanged_AndSurvivesAReopen()
    {
        using var tmp = new TempDir();
        var st = new FileStat(100, 1_000, 42, 2_000);
        using (var ix = Open(tmp.Path))
        {
            ix.Store("/data", "a/b.bin", st, H1);
            Assert.Equal(H1, ix.Lookup("/data", "a/b.bin", st));
            Assert.Null(ix.Lookup("/data", "a/b.bin", st with { MtimeNs = 1_001 }));
            Assert.Null(ix.Lookup("/data", "a/b.bin", st with { Size = 101 }));
            Assert.Null(ix.Lookup("/data", "a/b.bin", st with { Inode = 43 }));
            Assert.Null(ix.Lookup("/data", "a/b.bin", st with { CtimeNs = 2_001 }));
            Assert.Null(ix.Lookup("/other", "a/b.bin", st));
            ix.Flush();
        }

        using var again = Open(tmp.Path);
        Assert.Equal(H1, again.Lookup("/data", "a/b.bin", st));
        again.Store("/data", "a/b.bin", st, H2);
        Assert.Equal(H2, again.Lookup("/data", "a/b.bin", st));
        again.Forget("/data", "a/b.bin");
        Assert.Null(again.Lookup("/data", "a/b.bin", st));
    }

    [Fact]
    public void AnObjectsTimeAndHash_AreFoundByItsSizeAndETag()
    {
        using var tmp = new TempDir();
        using var ix = Open(tmp.Path);
        ix.StoreObject("s3://b/p", "x.bin", 10, "\"etag-1\"", 637_000_000_000_000_000, H1);
        Assert.Equal((637_000_000_000_000_000L, H1), ix.LookupObject("s3://b/p", "x.bin", 10, "\"etag-1\""));
        Assert.Null(ix.LookupObject("s3://b/p", "x.bin", 10, "\"etag-2\""));
        Assert.Null(ix.LookupObject("s3://b/p", "x.bin", 11, "\"etag-1\""));
    }
}

/// <summary>The SQLite tree index (HAUL_HOME/index.db) against the conformance suite.</summary>
[Trait("Category", "Unit")]
public sealed class SqliteTreeIndexTests : TreeIndexConformance
{
    internal override ITreeIndex Open(string dir) => new TreeIndex(Path.Combine(dir, "index.db"));
}
