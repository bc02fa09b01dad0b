using Haul.Operations;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.Sync;

[Trait("Category", "Unit")]
public sealed class FilesFromTests
{
    [Fact]
    public void Paths_AreTrimmed_RootedAndDotSlashFormsAccepted_CommentsAndRepeatsSkipped()
    {
        var paths = FilesFrom.Parse("# models\n/a.bin\r\n  ./b/c.bin  \n; note\n\nd/\na.bin\n", "list");
        Assert.Equal(["a.bin", "b/c.bin", "d"], paths);
    }

    [Theory]
    [InlineData("ok.bin\n../escape.bin", 2)]
    [InlineData("a/../../b", 1)]
    [InlineData("x\n\ny\nback\\slash", 4)]
    [InlineData("a//b", 1)]
    [InlineData("nul\0name", 1)]
    public void AHostilePath_IsRefusedByLineNumber_WithoutEchoingIt(string text, int line)
    {
        var e = Assert.Throws<HaulException>(() => FilesFrom.Parse(text, "list"));
        Assert.Equal(ErrorCode.UnsafePath, e.Code);
        Assert.Contains($"line {line} ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("escape", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("slash", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOversizedFile_OrADevice_IsRefusedBeforeItIsHeld()
    {
        using var tmp = new TempDir();
        string big = tmp.Sub("big.txt");
        using (var fs = File.Create(big))
        {
            fs.SetLength(FilesFrom.MaxBytes + 1L); // sparse: costs no disk
        }

        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => FilesFrom.Read(big)).Code);
        Assert.Equal(ErrorCode.PathNotFound, Assert.Throws<HaulException>(() => FilesFrom.Read("/dev/zero")).Code);
        Assert.Equal(ErrorCode.PathNotFound, Assert.Throws<HaulException>(() => FilesFrom.Read(tmp.Sub("missing"))).Code);
    }

    [Fact]
    public void TooManyPaths_AreRefused()
    {
        var text = string.Join('\n', Enumerable.Range(0, FilesFrom.MaxPaths + 1).Select(i => "f" + i));
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => FilesFrom.Parse(text, "list")).Code);
    }

    [Fact]
    public void Requests_RefuseContradictoryFlags_AndTakeZeroTransfersAsTheDefault()
    {
        using var tmp = new TempDir();
        string a = tmp.Sub("a"), b = tmp.Sub("b");
        Assert.Equal(SyncRequest.DefaultTransfers, new SyncRequest(SyncMode.Copy, a, b) { Transfers = 0 }.ToOptions().Transfers);
        Assert.Equal(256, new SyncRequest(SyncMode.Copy, a, b) { Transfers = 10_000 }.ToOptions().Transfers);
        foreach (var bad in new[]
        {
            new SyncRequest(SyncMode.Copy, a, b) { Transfers = -1 },
            new SyncRequest(SyncMode.Sync, a, b) { SizeOnly = true, Checksum = true },
            new SyncRequest(SyncMode.Copy, a, b) { DeleteExcluded = true },
            new SyncRequest(SyncMode.Check, a, b) { IgnoreExisting = true },
        })
        {
            Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => bad.ToOptions()).Code);
        }
    }

    [Theory]
    [InlineData("copied", (int)SyncVerbosity.Actions)]
    [InlineData("deleted", (int)SyncVerbosity.Actions)]
    [InlineData("touched", (int)SyncVerbosity.Actions)]
    [InlineData("notice", (int)SyncVerbosity.Notices)]
    [InlineData("conflict", (int)SyncVerbosity.Notices)]
    [InlineData("error", (int)SyncVerbosity.Errors)]
    [InlineData("refused", (int)SyncVerbosity.Errors)]
    public void LogLines_HaveTheLevelThatDecidesWhetherTheyShow(string what, int level)
    {
        Assert.Equal((SyncVerbosity)level, SyncLog.LevelOf(what));
    }
}
