using Haul.Jobs;

namespace Haul.Tests.Jobs;

[Trait("Category", "Unit")]
public sealed class ScheduleTests
{
    private static readonly TimeSpan Utc = TimeSpan.Zero;

    [Theory]
    [InlineData("0 2 * * *", "2026-11-22T21:10:00", "2026-11-23T02:00:00")]
    [InlineData("*/15 * * * *", "2026-11-22T21:10:30", "2026-11-22T21:15:00")]
    [InlineData("0 9 * * 1-5", "2026-11-21T10:00:00", "2026-11-23T09:00:00")] // Saturday → Monday
    [InlineData("30 8 1 * *", "2026-11-22T00:00:00", "2026-12-01T08:30:00")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00")] // the next leap day
    [InlineData("0 12 13 * 5", "2026-11-22T00:00:00", "2026-11-27T12:00:00")] // day 13 OR Friday, as cron
    [InlineData("0 0 * * 7", "2026-11-22T00:00:00", "2026-11-29T00:00:00")] // 7 is Sunday
    [InlineData("5,10 1-2 * * *", "2026-11-22T01:07:00", "2026-11-22T01:10:00")]
    public void Cron_NextRun(string cron, string after, string expected)
    {
        var next = Schedule.Parse(cron).Next(new DateTimeOffset(DateTime.Parse(after, System.Globalization.CultureInfo.InvariantCulture), Utc));
        Assert.Equal(new DateTimeOffset(DateTime.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Utc), next);
    }

    [Fact]
    public void Interval_CountsFromThePreviousRun()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, Utc);
        Assert.Equal(t.AddMinutes(15), Schedule.Parse("15m").Next(t));
        Assert.Equal(t.AddSeconds(30), Schedule.Parse("30s").Next(t));
    }

    [Theory]
    [InlineData("* * * *", "5 fields")]
    [InlineData("60 * * * *", "outside 0-59")]
    [InlineData("* 24 * * *", "outside 0-23")]
    [InlineData("*/0 * * * *", "bad step")]
    [InlineData("a * * * *", "not a number")]
    [InlineData("5x", "unknown unit")]
    public void BadSchedules_SayWhatIsWrong(string text, string why)
    {
        var e = Assert.Throws<HaulException>(() => Schedule.Parse(text));
        Assert.Equal(ErrorCode.Usage, e.Code);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }
}
