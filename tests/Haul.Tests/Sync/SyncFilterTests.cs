using Haul.Content;
using Haul.Sync;

namespace Haul.Tests.Sync;

[Trait("Category", "Unit")]
public sealed class SyncFilterTests
{
    [Theory]
    [InlineData("*.tmp", "a.tmp", true)]
    [InlineData("*.tmp", "deep/dir/b.tmp", true)]
    [InlineData("*.tmp", "a.tmpx", false)]
    [InlineData("/*.tmp", "deep/b.tmp", false)]
    [InlineData("/*.tmp", "b.tmp", true)]
    [InlineData("cache/", "x/cache/f", true)]
    [InlineData("cache/", "x/cachef", false)]
    [InlineData("**/raw/*.jpg", "a/b/raw/c.jpg", true)]
    [InlineData("img_?.png", "img_1.png", true)]
    [InlineData("img_?.png", "img_10.png", false)]
    [InlineData("*.{jpg,png}", "x/y.png", true)]
    [InlineData("[ab]*.bin", "b1.bin", true)]
    [InlineData("[!ab]*.bin", "b1.bin", false)]
    public void Exclude_MatchesAsRcloneDoes(string pattern, string path, bool excluded)
    {
        var f = SyncFilter.Create([pattern], []);
        Assert.Equal(!excluded, f.IncludesPath(path));
    }

    [Fact]
    public void Includes_LeaveOutEverythingElse_AndExcludesWin()
    {
        var f = SyncFilter.Create(["secret/**"], ["*.parquet"]);
        Assert.True(f.IncludesPath("a/b.parquet"));
        Assert.False(f.IncludesPath("a/b.csv"));
        Assert.False(f.IncludesPath("secret/x.parquet"));
    }

    [Fact]
    public void SizeAndAgeLimits_ApplyToFiles()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        var f = SyncFilter.Create([], [], minSize: 10, maxSize: 100, minAge: TimeSpan.FromHours(1), maxAge: TimeSpan.FromDays(1), now: now);
        long t(double hoursAgo) => now.AddHours(-hoursAgo).UtcTicks;
        Assert.True(f.Includes(new SyncEntry("a", 50, t(2))));
        Assert.False(f.Includes(new SyncEntry("a", 5, t(2))));
        Assert.False(f.Includes(new SyncEntry("a", 500, t(2))));
        Assert.False(f.Includes(new SyncEntry("a", 50, t(0.5))));
        Assert.False(f.Includes(new SyncEntry("a", 50, t(30))));
    }

    [Fact]
    public void SyntaxErrors_AreAllReportedInOneLine()
    {
        var e = Assert.Throws<HaulException>(() => SyncFilter.Create(["[a", "x}"], ["{a,b"]));
        Assert.Equal(ErrorCode.Usage, e.Code);
        Assert.Contains("'[a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'x}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'{a,b'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void FilterRules_ApplyInOrderAfterExcludesAndIncludes_FirstMatchWins()
    {
        // As rclone: "+ *.txt" before "- *" keeps text files at any depth and nothing else.
        var f = SyncFilter.Create([], [], rules: ["- secret/**", "+ *.txt", "- *"]);
        Assert.True(f.IncludesPath("a.txt"));
        Assert.True(f.IncludesPath("deep/b.txt"));
        Assert.False(f.IncludesPath("secret/c.txt"));
        Assert.False(f.IncludesPath("d.log"));

        // An --exclude is checked before every rule; a path no rule matches is kept (no --include given) ...
        var g = SyncFilter.Create(["*.tmp"], [], rules: ["+ *.tmp", "- *.log"]);
        Assert.False(g.IncludesPath("x.tmp"));
        Assert.True(g.IncludesPath("y.bin"));

        // ... or left out after an --include, though a rule may let it back in.
        var h = SyncFilter.Create([], ["*.parquet"], rules: ["+ *.json"]);
        Assert.True(h.IncludesPath("m.json"));
        Assert.False(h.IncludesPath("m.csv"));
    }

    [Fact]
    public void ADirectoryIsPruned_OnlyWhenAnExcludeNamesItBeforeAnyIncludeRule()
    {
        Assert.True(SyncFilter.Create([], [], rules: ["- cache/", "+ *.txt"]).ExcludesDirectory("cache"));
        Assert.False(SyncFilter.Create([], [], rules: ["+ *.txt", "- cache/"]).ExcludesDirectory("cache"), "cache/x.txt is included by the earlier rule");
        Assert.True(SyncFilter.Create([], [], rules: ["+ *.txt", "- cache/"]).IncludesPath("cache/x.txt"));
        Assert.True(SyncFilter.Create(["cache/"], ["*.txt"]).ExcludesDirectory("cache"), "--exclude still prunes before --include");
    }

    [Theory]
    [InlineData("*.tmp")]
    [InlineData("+*.tmp")]
    [InlineData("! ")]
    [InlineData("- ")]
    [InlineData("- {a")]
    public void MalformedFilterRules_AreRefused(string rule)
    {
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => SyncFilter.Create([], [], rules: [rule])).Code);
    }

    [Fact]
    public void FilesFrom_LetsOnlyTheListedFilesPass_AndPrunesDirectoriesWithoutThem()
    {
        var f = SyncFilter.Create(["*.tmp"], [], files: ["a.bin", "d/e/f.bin", "d/x.tmp"]);
        Assert.True(f.IncludesPath("a.bin"));
        Assert.True(f.IncludesPath("d/e/f.bin"));
        Assert.False(f.IncludesPath("b.bin"));
        Assert.False(f.IncludesPath("d/x.tmp"), "the other filters still apply to listed files");
        Assert.False(f.ExcludesDirectory("d"));
        Assert.False(f.ExcludesDirectory("d/e"));
        Assert.True(f.ExcludesDirectory("other"));
        Assert.True(f.ExcludesDirectory("d/e/f.bin"), "a directory named like a listed file holds nothing listed");
    }

    [Fact]
    public void BandwidthTimetable_PicksTheSlotInForce()
    {
        var s = BandwidthSchedule.Parse("08:00,10M 18:00,off");
        Assert.Equal(10 * 1024 * 1024, s.RateAt(new DateTime(2026, 1, 1, 9, 30, 0)));
        Assert.True(double.IsPositiveInfinity(s.RateAt(new DateTime(2026, 1, 1, 19, 0, 0))));
        Assert.True(double.IsPositiveInfinity(s.RateAt(new DateTime(2026, 1, 1, 3, 0, 0))), "before 08:00 yesterday's last slot holds");
        Assert.Equal(512 * 1024, BandwidthSchedule.Parse("512k").RateAt(DateTime.Now));
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => BandwidthSchedule.Parse("8am,10M")).Code);
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => BandwidthSchedule.Parse("10Q")).Code);
    }
}
