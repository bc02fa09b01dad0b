using Haul.Jobs;
using Haul.Tests.Support;

namespace Haul.Tests.State;

/// <summary>What any job store must do (<see cref="IJobStore"/>): run against every implementation.</summary>
public abstract class JobStoreConformance
{
    internal abstract IJobStore Open(string dir);

    private static Job NewJob(string name, DateTimeOffset? next = null) =>
        new(name, ["sync", "/data", "lab-b:models"], "1h", null, false, next, null, null, null, DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));

    [Fact]
    public void AJob_IsKeptWithItsCommand_NamesAreUnique_AndItsRunsAreRecordedNewestFirst()
    {
        using var tmp = new TempDir();
        var t0 = DateTimeOffset.FromUnixTimeSeconds(1_800_000_100);
        using (var s = Open(tmp.Path))
        {
            s.Add(NewJob("nightly", t0));
            var dup = Assert.Throws<HaulException>(() => s.Add(NewJob("nightly")));
            Assert.Equal(ErrorCode.Usage, dup.Code);
            long r1 = s.Started("nightly", "schedule", t0);
            s.Finished(r1, "nightly", t0.AddSeconds(5), 0, "ok");
            long r2 = s.Started("nightly", "api", t0.AddHours(1));
            s.Finished(r2, "nightly", t0.AddHours(1).AddSeconds(2), 23, "2 files failed");
        }

        using var again = Open(tmp.Path);
        var job = again.Get("nightly");
        Assert.Equal(["sync", "/data", "lab-b:models"], job.Command);
        Assert.Equal("1h", job.Every);
        Assert.Equal(23, job.LastExitCode);
        Assert.Equal("2 files failed", job.LastMessage);
        var runs = again.History("nightly");
        Assert.Equal(["api", "schedule"], runs.Select(r => r.Trigger));
        Assert.Equal([23, 0], runs.Select(r => r.ExitCode ?? -1));
        Assert.Single(again.History("nightly", limit: 1));
    }

    [Fact]
    public void AJob_IsPaused_Rescheduled_AndRemoved()
    {
        using var tmp = new TempDir();
        using var s = Open(tmp.Path);
        s.Add(NewJob("a"));
        s.Add(NewJob("b"));
        s.SetPaused("a", true);
        var next = DateTimeOffset.FromUnixTimeSeconds(1_900_000_000);
        s.SetNextRun("b", next);
        Assert.True(s.Find("a")!.Paused);
        Assert.Equal(next, s.Find("b")!.NextRun);
        Assert.Equal(2, s.List().Count);
        Assert.True(s.Remove("a"));
        Assert.False(s.Remove("a"));
        Assert.Null(s.Find("a"));
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => s.Get("a")).Code);
    }
}

/// <summary>The SQLite job store (jobs and job_runs in HAUL_HOME/haul.db) against the conformance suite.</summary>
[Trait("Category", "Unit")]
public sealed class SqliteJobStoreTests : JobStoreConformance
{
    internal override IJobStore Open(string dir) => new JobStore(Path.Combine(dir, "haul.db"));
}
