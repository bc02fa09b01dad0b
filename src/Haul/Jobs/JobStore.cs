using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Haul.Jobs;

/// <summary>
/// Jobs and their history in the node's database (haul.db, its own connection: the CLI adds and
/// pauses jobs while a running node reads them). Thread-safe.
/// </summary>
internal sealed class JobStore : IJobStore
{
    /// <summary>
    /// The jobs' columns, bounded: the scheduler reads every row twice a second, so a damaged or edited
    /// row with a huge spec or command is read as none (the job then fails with the reason) instead of
    /// being parsed on every tick, and a last message is cut.
    /// </summary>
    private const string SelectJobs = "SELECT name, CASE WHEN length(command) <= 65536 THEN command ELSE '[]' END AS command, every, watch_path, paused, next_run, last_run, last_exit, substr(last_message, 1, 4096) AS last_message, created_at, CASE WHEN length(spec) <= 1048576 THEN spec END AS spec FROM jobs";

    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public JobStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _db.Open();
        Exec("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;
            CREATE TABLE IF NOT EXISTS jobs(
                name TEXT PRIMARY KEY, command TEXT NOT NULL, every TEXT, watch_path TEXT,
                paused INTEGER NOT NULL DEFAULT 0, next_run INTEGER, last_run INTEGER, last_exit INTEGER,
                last_message TEXT, created_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS job_runs(
                id INTEGER PRIMARY KEY, job TEXT NOT NULL, trigger TEXT NOT NULL, started_at INTEGER NOT NULL,
                finished_at INTEGER, exit_code INTEGER, message TEXT);
            CREATE INDEX IF NOT EXISTS job_runs_by_job ON job_runs(job, id);
            """);

        // Typed specs (issue 19): jobs saved before them have the command line only, and get a spec
        // when JobMigration reads it.
        using (var c = _db.CreateCommand())
        {
            c.CommandText = "SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name='spec'";
            if ((long)c.ExecuteScalar()! == 0)
            {
                Exec("ALTER TABLE jobs ADD COLUMN spec TEXT");
            }
        }
    }

    public void Add(Job job)
    {
        lock (_lock)
        {
            try
            {
                Exec(
                    "INSERT INTO jobs(name, command, every, watch_path, paused, next_run, created_at, spec) VALUES($n,$c,$e,$w,0,$nr,$t,$s)",
                    ("$n", job.Name),
                    ("$c", JsonSerializer.Serialize(job.Command.ToArray(), JobJson.Default.StringArray)),
                    ("$e", job.Every),
                    ("$w", job.WatchPath),
                    ("$nr", job.NextRun?.ToUnixTimeMilliseconds()),
                    ("$t", job.CreatedAt.ToUnixTimeMilliseconds()),
                    ("$s", job.Spec?.ToJson()));
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 19)
            {
                throw new HaulException(ErrorCode.Usage, $"a job named '{job.Name}' already exists", "pick another name, or 'haul job remove " + job.Name + "' first");
            }
        }
    }

    public Job? Find(string name)
    {
        lock (_lock)
        {
            return Query(SelectJobs + " WHERE name=$n", ("$n", name)).FirstOrDefault();
        }
    }

    public Job Get(string name) => Find(name) ?? throw new HaulException(ErrorCode.Usage, $"no job named '{name}'", "list jobs with 'haul job list'");

    public IReadOnlyList<Job> List()
    {
        lock (_lock)
        {
            return Query(SelectJobs + " ORDER BY name");
        }
    }

    public bool Remove(string name)
    {
        lock (_lock)
        {
            return Exec("DELETE FROM jobs WHERE name=$n", ("$n", name)) > 0;
        }
    }

    public void SetPaused(string name, bool paused)
    {
        lock (_lock)
        {
            if (Exec("UPDATE jobs SET paused=$p WHERE name=$n", ("$n", name), ("$p", paused ? 1 : 0)) == 0)
            {
                throw new HaulException(ErrorCode.Usage, $"no job named '{name}'", "list jobs with 'haul job list'");
            }
        }
    }

    public void SetNextRun(string name, DateTimeOffset? next)
    {
        lock (_lock)
        {
            Exec("UPDATE jobs SET next_run=$r WHERE name=$n", ("$n", name), ("$r", next?.ToUnixTimeMilliseconds()));
        }
    }

    public void SetSpec(string name, Operations.TransferRequest spec)
    {
        lock (_lock)
        {
            if (Exec("UPDATE jobs SET spec=$s WHERE name=$n", ("$n", name), ("$s", spec.ToJson())) == 0)
            {
                throw new HaulException(ErrorCode.Usage, $"no job named '{name}'", "list jobs with 'haul job list'");
            }
        }
    }

    public long Started(string name, string trigger, DateTimeOffset at)
    {
        lock (_lock)
        {
            Exec("INSERT INTO job_runs(job, trigger, started_at) VALUES($n,$t,$s)", ("$n", name), ("$t", trigger), ("$s", at.ToUnixTimeMilliseconds()));
            using var c = _db.CreateCommand();
            c.CommandText = "SELECT last_insert_rowid()";
            return (long)c.ExecuteScalar()!;
        }
    }

    public void Finished(long runId, string name, DateTimeOffset at, int exitCode, string message)
    {
        lock (_lock)
        {
            Exec("UPDATE job_runs SET finished_at=$f, exit_code=$x, message=$m WHERE id=$i", ("$i", runId), ("$f", at.ToUnixTimeMilliseconds()), ("$x", exitCode), ("$m", message));
            Exec("UPDATE jobs SET last_run=$f, last_exit=$x, last_message=$m WHERE name=$n", ("$n", name), ("$f", at.ToUnixTimeMilliseconds()), ("$x", exitCode), ("$m", message));
        }
    }

    public IReadOnlyList<JobRun> History(string name, int limit = 20)
    {
        lock (_lock)
        {
            using var c = _db.CreateCommand();
            c.CommandText = "SELECT id, job, trigger, started_at, finished_at, exit_code, message FROM job_runs WHERE job=$n ORDER BY id DESC LIMIT $l";
            c.Parameters.AddWithValue("$n", name);
            c.Parameters.AddWithValue("$l", limit);
            using var r = c.ExecuteReader();
            var list = new List<JobRun>();
            while (r.Read())
            {
                list.Add(new JobRun(r.GetInt64(0), r.GetString(1), r.GetString(2), Ms(r.GetInt64(3)), r.IsDBNull(4) ? null : Ms(r.GetInt64(4)), r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetString(6)));
            }

            return list;
        }
    }

    public void Dispose() => _db.Dispose();

    private static DateTimeOffset Ms(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private List<Job> Query(string sql, params (string Name, object? Value)[] ps)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var (n, v) in ps)
        {
            c.Parameters.AddWithValue(n, v ?? DBNull.Value);
        }

        using var r = c.ExecuteReader();
        var list = new List<Job>();
        while (r.Read())
        {
            long? L(string col) => r.IsDBNull(r.GetOrdinal(col)) ? null : r.GetInt64(r.GetOrdinal(col));
            string? S(string col) => r.IsDBNull(r.GetOrdinal(col)) ? null : r.GetString(r.GetOrdinal(col));
            list.Add(new Job(
                r.GetString(r.GetOrdinal("name")),
                ReadCommand(r.GetString(r.GetOrdinal("command"))),
                S("every"),
                S("watch_path"),
                L("paused") == 1,
                L("next_run") is { } nr ? Ms(nr) : null,
                L("last_run") is { } lr ? Ms(lr) : null,
                L("last_exit") is { } le ? (int)le : null,
                S("last_message"),
                Ms(L("created_at") ?? 0),
                Operations.TransferRequest.FromJson(S("spec"))));
        }

        return list;
    }

    /// <summary>A stored command line; one that does not read (a damaged row) is shown as none, and the job is still listed.</summary>
    private static string[] ReadCommand(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, JobJson.Default.StringArray) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private int Exec(string sql, params (string Name, object? Value)[] ps)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var (n, v) in ps)
        {
            c.Parameters.AddWithValue(n, v ?? DBNull.Value);
        }

        return c.ExecuteNonQuery();
    }
}
