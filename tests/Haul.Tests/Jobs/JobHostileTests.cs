using Haul.Cli.Commands;
using Haul.Jobs;
using Haul.Tests.Support;
using Haul.Transfer.Congestion;
using Microsoft.Data.Sqlite;

namespace Haul.Tests.Jobs;

/// <summary>Jobs rows and job commands that are hostile or damaged (an API caller's JSON, an edited haul.db): each a one-line error, never a crash of the job commands or the node.</summary>
[Collection("nodes")]
public sealed class JobHostileTests
{
    [Fact]
    [Trait("Category", "Unit")]
    public void ANullElementInAJobsCommand_IsAUsageError_AndTheStoreStillOpens()
    {
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => CommandSpecs.FromArgv(["sync", null!, "/b"], new RatePolicy())).Code);

        // A jobs row saved as a command line with a null in it (damaged, or edited by hand): every
        // 'haul job' command and 'haul serve' open the store and migrate it; that must not throw.
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        using (var store = new JobStore(Haul.Node.HaulHome.DatabasePath(home)))
        {
        }

        using (var db = new SqliteConnection($"Data Source={Haul.Node.HaulHome.DatabasePath(home)};Pooling=False"))
        {
            db.Open();
            using var c = db.CreateCommand();
            c.CommandText = """INSERT INTO jobs(name, command, every, created_at) VALUES('bad', '["sync",null]', '1h', 0)""";
            c.ExecuteNonQuery();
        }

        using var opened = JobCommands.OpenStore(home);
        Assert.Null(opened.Get("bad").Spec);
    }
}
