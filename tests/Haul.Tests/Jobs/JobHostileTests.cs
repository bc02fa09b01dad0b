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

    [Fact]
    [Trait("Category", "Unit")]
    public void ADamagedJobsRow_IsListed_WithNoSpec_NotParsedWhole_AndNotAThrow()
    {
        using var tmp = new TempDir();
        string db = Haul.Node.HaulHome.DatabasePath(tmp.Sub("home"));
        using var store = new JobStore(db);
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "INSERT INTO jobs(name, command, every, created_at, spec, last_message) VALUES('garbage', '{not json', '1h', 0, '{\"kind\":', $m), ('huge', '[\"copy\",\"/a\",\"/b\"]', '1h', 0, $s, NULL)";
            cmd.Parameters.AddWithValue("$m", new string('m', 100_000));
            cmd.Parameters.AddWithValue("$s", "{\"kind\":\"Copy\",\"peer\":\"\",\"path\":\"" + new string('A', 2_000_000) + "\",\"destination\":\"/b\"}");
            cmd.ExecuteNonQuery();
        }

        var jobs = store.List();
        var garbage = jobs.Single(j => j.Name == "garbage");
        Assert.Empty(garbage.Command);
        Assert.Null(garbage.Spec);
        Assert.True(garbage.LastMessage!.Length <= 4096);
        Assert.Null(jobs.Single(j => j.Name == "huge").Spec);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public async Task AJobWithADamagedSchedule_DoesNotStopTheOthers_AndARunsMessageIsOneBoundedLine()
    {
        using var tmp = new TempDir();
        using var store = new JobStore(Haul.Node.HaulHome.DatabasePath(tmp.Sub("home")));
        var past = DateTimeOffset.Now.AddMinutes(-1);
        var spec = Haul.Operations.TransferRequest.For(new Haul.Operations.SyncRequest(Haul.Sync.SyncMode.Copy, "/a", "/b"));
        store.Add(new Job("a-bad", ["copy", "/a", "/b"], "every now and then", null, false, past, null, null, null, past, spec));
        store.Add(new Job("b-good", ["copy", "/a", "/b"], "1h", null, false, past, null, null, null, past, spec));
        var ran = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using (var scheduler = new JobScheduler(store, (j, _, _) => { ran.Enqueue(j.Name); return Task.FromResult((2, "line one\nline two \u001b[31m" + new string('x', 5000))); }, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance) { Tick = TimeSpan.FromMilliseconds(50) })
        {
            scheduler.Start();
            for (int i = 0; i < 100 && store.History("b-good") is not [{ FinishedAt: not null }, ..]; i++)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal(["b-good"], ran.Distinct());
        string message = store.History("b-good")[0].Message!;
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\u001b', message);
        Assert.True(message.Length < 1100);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void AJobsRelativeEnds_AreMadeAbsolute_WhenAdded_PeersAndBucketsAreNot()
    {
        // 'haul serve' runs from its own folder (/ under systemd): a relative end must not mean a folder there.
        string[] argv = ["sync", "data/new", "mirror", "--exclude-from", "rules.txt", "--exclude", "*.tmp"];
        string[] anchored = JobCommands.Anchor(argv, CommandSpecs.FromArgv(argv, new RatePolicy()));
        Assert.Equal(["sync", Path.GetFullPath("data/new"), Path.GetFullPath("mirror"), "--exclude-from", Path.GetFullPath("rules.txt"), "--exclude", "*.tmp"], anchored);

        string[] remote = ["copy", "hub:incoming/x", "s3://bucket/prefix", "--backup-dir", "/abs/old"];
        Assert.Equal(remote, JobCommands.Anchor(remote, CommandSpecs.FromArgv(remote, new RatePolicy())));

        string[] send = ["send", "weights", "hub"];
        Assert.Equal(["send", Path.GetFullPath("weights"), "hub"], JobCommands.Anchor(send, CommandSpecs.FromArgv(send, new RatePolicy())));
    }

    [Fact]
    public async Task CtrlC_DuringHaulJobRun_EndsItAsCancelled_AndRecordsTheRun()
    {
        // System.CommandLine 2.0.0 did not handle SIGINT: the process died at once, the run's history row
        // stayed open for ever ("exit -") and the copy's temporary files stayed in the destination.
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        Trees.WriteRandom(tmp.Sub("src/big.bin"), 40_000_000, 1);
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", home, "job", "add", "slow", "--every", "1h", "--", "copy", tmp.Sub("src"), tmp.Sub("dst"), "--bwlimit", "2M")).Code);
        using var run = HaulProcess.Start("--home", home, "job", "run", "slow");
        await Task.Delay(2500);
        System.Diagnostics.Process.Start("kill", ["-INT", run.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.Equal((int)ErrorCode.Cancelled, await run.WaitAsync(TimeSpan.FromSeconds(15)));

        var history = await HaulProcess.RunAsync("--home", home, "job", "history", "slow", "--json");
        var last = System.Text.Json.JsonDocument.Parse(history.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]).RootElement;
        Assert.Equal((int)ErrorCode.Cancelled, last.GetProperty("exitCode").GetInt32());
        Assert.False(File.Exists(tmp.Sub("dst/big.bin")));
    }
}
