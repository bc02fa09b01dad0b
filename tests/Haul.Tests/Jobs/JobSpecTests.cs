using Haul.Cli.Commands;
using Haul.Jobs;
using Haul.Operations;
using Haul.Tests.Support;
using Haul.Transfer.Congestion;
using Microsoft.Data.Sqlite;

namespace Haul.Tests.Jobs;

/// <summary>Jobs keep a typed spec: a command line reads into the request the command itself runs, and jobs saved as command lines by older versions migrate.</summary>
[Collection("nodes")]
public sealed class JobSpecTests
{
    [Fact]
    [Trait("Category", "Unit")]
    public void ACommandLine_ReadsAsTheTypedRequest_ItsCommandRuns()
    {
        var sync = CommandSpecs.FromArgv(["sync", "/data/new", "s3://bucket/in", "--exclude", "*.tmp", "--min-size", "10k", "--bwlimit", "5M", "--max-delete", "3", "--checksum", "--endpoint", "http://127.0.0.1:9000"], new RatePolicy());
        Assert.Equal(TransferKind.Sync, sync.Kind);
        Assert.Equal(("/data/new", "s3://bucket/in"), (sync.Sync!.Source, sync.Sync.Dest));
        Assert.Equal(["*.tmp"], sync.Sync.Filter.Exclude);
        Assert.Equal(10 * 1024, sync.Sync.Filter.MinSize);
        Assert.Equal(("5M", 3L, true, "http://127.0.0.1:9000"), (sync.Sync.BandwidthLimit, sync.Sync.MaxDelete, sync.Sync.Checksum, sync.Sync.S3Endpoint));

        var flags = CommandSpecs.FromArgv(["sync", "a", "b", "--filter", "- *.tmp", "-f", "+ data/**", "--filter-from", "/etc/rules", "--files-from", "/etc/list", "--delete-excluded", "--size-only", "--ignore-existing", "--transfers", "0", "-v", "-P"], new RatePolicy());
        Assert.Equal(["- *.tmp", "+ data/**"], flags.Sync!.Filter.Filter);
        Assert.Equal(["/etc/rules"], flags.Sync.Filter.FilterFrom);
        Assert.Equal(["/etc/list"], flags.Sync.Filter.FilesFrom);
        Assert.Equal((true, true, true, 0), (flags.Sync.DeleteExcluded, flags.Sync.SizeOnly, flags.Sync.IgnoreExisting, flags.Sync.Transfers));
        Assert.Equal(flags.ToJson(), TransferRequest.FromJson(flags.ToJson())!.ToJson());
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => CommandSpecs.FromArgv(["copy", "a", "b", "--size-only", "--checksum"], new RatePolicy())).Code);

        var check = CommandSpecs.FromArgv(["check", "a", "b"], new RatePolicy());
        Assert.Equal((TransferKind.Check, Haul.Sync.SyncMode.Check), (check.Kind, check.Sync!.Mode));

        var bisync = CommandSpecs.FromArgv(["bisync", "a", "peer:f/x", "--conflict", "path2", "--resync"], new RatePolicy());
        Assert.Equal((Haul.Sync.ConflictPolicy.Path2, true), (bisync.Bisync!.Conflict, bisync.Bisync.Resync));

        var send = CommandSpecs.FromArgv(["send", "/models/w.bin", "hub", "--tcp", "--max-rate", "100M"], new RatePolicy());
        Assert.Equal((TransferKind.Send, "hub", "/models/w.bin", true), (send.Kind, send.Peer, send.Path, send.Tcp));
        Assert.Equal(100e6, send.Rate!.MaxBytesPerSec);
        Assert.Null(CommandSpecs.FromArgv(["send", "/x", "hub"], new RatePolicy()).Rate);

        // The typed spec survives the store's JSON as it was.
        foreach (var r in new[] { sync, check, bisync, send })
        {
            Assert.Equal(r.ToJson(), TransferRequest.FromJson(r.ToJson())!.ToJson());
        }

        Assert.Null(TransferRequest.FromJson("{\"kind\":\"nonsense\""));
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => CommandSpecs.FromArgv(["rm", "-rf", "/"], new RatePolicy())).Code);
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => CommandSpecs.FromArgv(["sync", "@/etc/shadow"], new RatePolicy())).Code);
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => CommandSpecs.FromArgv(["sync", "a"], new RatePolicy())).Code);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void ABadPatternInAFilterFile_IsReportedByLine_NeverByItsText()
    {
        // A job (or an API caller) may name any file the node can read; its error goes back to them.
        using var tmp = new TempDir();
        string secret = Path.Combine(tmp.Path, "secret.txt");
        File.WriteAllLines(secret, ["*.tmp", "token=[s3cr3t-value"]);
        var spec = CommandSpecs.FromArgv(["sync", "a", "b", "--exclude-from", secret], new RatePolicy());
        var ex = Assert.Throws<HaulException>(() => spec.Sync!.ToOptions());
        Assert.Equal(ErrorCode.Usage, ex.Code);
        Assert.Contains("pattern 2 is not a pattern", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", ex.Message + ex.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJobSavedAsACommandLine_ByAnOlderVersion_MigratesToASpec_AndRuns()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        string src = tmp.Sub("src"), dst = tmp.Sub("dst");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 200_000, 1);
        Trees.WriteRandom(Path.Combine(src, "b.log"), 1_000, 2);

        // haul.db as the version before typed specs wrote it: no spec column, the command as JSON argv.
        Directory.CreateDirectory(Path.GetDirectoryName(Haul.Node.HaulHome.DatabasePath(home))!);
        using (var db = new SqliteConnection($"Data Source={Haul.Node.HaulHome.DatabasePath(home)};Pooling=False"))
        {
            db.Open();
            using var c = db.CreateCommand();
            c.CommandText = $$"""
                CREATE TABLE jobs(name TEXT PRIMARY KEY, command TEXT NOT NULL, every TEXT, watch_path TEXT,
                    paused INTEGER NOT NULL DEFAULT 0, next_run INTEGER, last_run INTEGER, last_exit INTEGER,
                    last_message TEXT, created_at INTEGER NOT NULL);
                CREATE TABLE job_runs(id INTEGER PRIMARY KEY, job TEXT NOT NULL, trigger TEXT NOT NULL, started_at INTEGER NOT NULL,
                    finished_at INTEGER, exit_code INTEGER, message TEXT);
                INSERT INTO jobs(name, command, every, created_at) VALUES
                    ('old', '["copy","{{src}}","{{dst}}","--exclude","*.log"]', '1h', 0),
                    ('broken', '["copy","{{src}}"]', '1h', 0);
                """;
            c.ExecuteNonQuery();
        }

        using var store = JobCommands.OpenStore(home);
        var old = store.Get("old");
        Assert.NotNull(old.Spec);
        Assert.Equal((TransferKind.Copy, src, dst), (old.Spec!.Kind, old.Spec.Path, old.Spec.Destination));
        Assert.Equal(["*.log"], old.Spec.Sync!.Filter.Exclude);
        Assert.Null(store.Get("broken").Spec);

        var (code, message) = await Haul.Node.JobRunner.RunHereAsync(home, old, CancellationToken.None);
        Assert.Equal(0, code);
        Assert.StartsWith("copy: 1 copied", message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dst, "a.bin")));
        Assert.False(File.Exists(Path.Combine(dst, "b.log")));

        var (badCode, badMessage) = await Haul.Node.JobRunner.RunHereAsync(home, store.Get("broken"), CancellationToken.None);
        Assert.Equal((int)ErrorCode.Usage, badCode);
        Assert.Contains("has no spec", badMessage, StringComparison.Ordinal);
    }
}
