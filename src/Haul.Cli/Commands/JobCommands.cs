using System.CommandLine;
using Haul.Jobs;
using Haul.Node;

namespace Haul.Cli.Commands;

/// <summary>haul job add/list/run/pause/resume/remove/history: saved transfers (typed specs, written as haul commands) a running node runs on a schedule or on change.</summary>
internal static class JobCommands
{
    public static Command Create()
    {
        var job = new Command("job", "Scheduled and watched jobs, run by 'haul serve'");
        job.Subcommands.Add(Add());
        job.Subcommands.Add(List());
        job.Subcommands.Add(Simple("run", "Run a job now, here, and record the result", async (store, name, home, ct) =>
        {
            var j = store.Get(name);
            var (code, msg) = await JobScheduler.RunOnceAsync(store, j, "manual", (x, _, c) => JobRunner.RunHereAsync(home, x, c), TimeProvider.System, ct).ConfigureAwait(false);
            Console.Error.WriteLine($"job '{name}' exited {code}: {msg}");
            return code;
        }));
        job.Subcommands.Add(Simple("pause", "Stop a job from running until resumed", (store, name, _, _) => { store.SetPaused(name, true); return Task.FromResult(0); }));
        job.Subcommands.Add(Simple("resume", "Let a paused job run again", (store, name, _, _) => { store.SetPaused(name, false); store.SetNextRun(name, null); return Task.FromResult(0); }));
        job.Subcommands.Add(Simple("remove", "Delete a job (its history stays)", (store, name, _, _) =>
        {
            if (!store.Remove(name))
            {
                throw new HaulException(ErrorCode.Usage, $"no job named '{name}'", "list jobs with 'haul job list'");
            }

            return Task.FromResult(0);
        }));
        job.Subcommands.Add(History());
        return job;
    }

    /// <summary>A checked job whose spec is a haul command line (haul job add NAME ... -- sync A B; the API's "command").</summary>
    internal static Job Build(string name, string[] argv, string? every, string? watch, DateTimeOffset now, Transfer.Congestion.RatePolicy defaults) =>
        JobFactory.Create(name, argv, () => CommandSpecs.FromArgv(argv, defaults), every, watch, now);

    /// <summary>
    /// The command with its local ends (and filter files, backup folder) made absolute: typed relative to
    /// the shell's folder, they would otherwise be read from whatever folder 'haul serve' runs in (/ under
    /// systemd), and a sync would mirror into, and delete in, a folder the user never named.
    /// </summary>
    internal static string[] Anchor(string[] argv, Operations.TransferRequest spec)
    {
        static bool Relative(string? p) => !string.IsNullOrEmpty(p) && !p.StartsWith("s3://", StringComparison.Ordinal) && !SyncEnds.IsPeer(p, out _, out _) && !Path.IsPathFullyQualified(p);
        string?[] ends = spec.Kind == Operations.TransferKind.Send ? [spec.Path] : [spec.Path, spec.Destination];
        var local = ends.Where(Relative).ToHashSet(StringComparer.Ordinal);
        string[] pathFlags = ["--exclude-from", "--include-from", "--backup-dir"];
        var result = new string[argv.Length];
        for (int i = 0; i < argv.Length; i++)
        {
            string a = argv[i];
            bool isPath = i > 0 && !a.StartsWith('-') && (local.Contains(a) || pathFlags.Contains(argv[i - 1]));
            result[i] = isPath && Relative(a) ? Path.GetFullPath(a) : a;
        }

        return result;
    }

    /// <summary>The job store of a home, with jobs saved as command lines by older versions given their spec.</summary>
    internal static JobStore OpenStore(string home)
    {
        var store = new JobStore(HaulHome.DatabasePath(home));
        JobMigration.Migrate(store, argv => CommandSpecs.FromArgv(argv, DefaultPolicy(home)));
        return store;
    }

    /// <summary>The node's pacing policy for a job's send flags to apply on; Haul's defaults before 'haul init'.</summary>
    internal static Transfer.Congestion.RatePolicy DefaultPolicy(string home)
    {
        if (!Security.NodeIdentity.Exists(home))
        {
            return new Transfer.Congestion.RatePolicy();
        }

        using var node = HaulNode.Open(home);
        return node.DefaultRatePolicy;
    }

    private static Command Add()
    {
        var name = new Argument<string>("name") { Description = "A name for the job" };
        var command = new Argument<string[]>("command") { Description = "After --: the haul command to run, e.g. -- sync /data/new s3://bucket/incoming", Arity = ArgumentArity.OneOrMore };
        var every = new Option<string?>("--every") { Description = "Cron schedule (\"0 2 * * *\") or interval (30s, 15m, 6h)" };
        var watch = new Option<string?>("--watch") { Description = "Run when this folder changes (debounced), and on a periodic rescan" };
        var cmd = new Command("add", "Save a job: haul job add NAME (--every SCHEDULE | --watch DIR) -- COMMAND...") { name, command, every, watch };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            var now = DateTimeOffset.Now;
            string home = Cli.HomeOf(pr);
            var policy = DefaultPolicy(home);
            string[] argv = pr.GetValue(command)!;
            var job = Build(pr.GetValue(name)!, argv, pr.GetValue(every), pr.GetValue(watch), now, policy);
            string[] anchored = Anchor(argv, job.Spec!);
            if (!anchored.SequenceEqual(argv))
            {
                job = Build(job.Name, anchored, pr.GetValue(every), pr.GetValue(watch), now, policy);
            }

            using var store = OpenStore(home);
            store.Add(job);
            Console.Error.WriteLine(job.Every is null ? $"job '{job.Name}' added: runs when {job.WatchPath} changes" : $"job '{job.Name}' added: next run {job.NextRun:yyyy-MM-dd HH:mm:ss zzz}");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var cmd = new Command("list", "List jobs with their schedule, next run and last result") { json };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var store = OpenStore(Cli.HomeOf(pr));
            foreach (var j in store.List())
            {
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("name", j.Name), ("command", string.Join(' ', j.Command)), ("every", j.Every), ("watch", j.WatchPath), ("paused", j.Paused), ("nextRun", j.NextRun?.ToString("o")), ("lastRun", j.LastRun?.ToString("o")), ("lastExitCode", j.LastExitCode), ("lastMessage", j.LastMessage))
                    : $"{j.Name,-16} {(j.Paused ? "paused " : string.Empty)}{(j.Every is not null ? $"every '{j.Every}'" : $"watch {j.WatchPath}")}  next {j.NextRun?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss") ?? "-"}  last {(j.LastRun is null ? "never" : $"{j.LastRun.Value.ToLocalTime():yyyy-MM-dd HH:mm:ss} exit {j.LastExitCode}")}  haul {Security.Printable.Of(string.Join(' ', j.Command), 400)}");
            }

            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static Command History()
    {
        var name = new Argument<string>("name");
        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var cmd = new Command("history", "A job's last runs, newest first") { name, json };
        cmd.SetAction((pr, ct) => Cli.Guard(() =>
        {
            using var store = OpenStore(Cli.HomeOf(pr));
            store.Get(pr.GetValue(name)!);
            foreach (var r in store.History(pr.GetValue(name)!))
            {
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("job", r.Job), ("trigger", r.Trigger), ("startedAt", r.StartedAt.ToString("o")), ("finishedAt", r.FinishedAt?.ToString("o")), ("exitCode", r.ExitCode), ("message", r.Message))
                    : $"{r.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss} {r.Trigger,-8} exit {r.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}  {Security.Printable.Of(r.Message, 1024)}");
            }

            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static Command Simple(string verb, string description, Func<JobStore, string, string, CancellationToken, Task<int>> body)
    {
        var name = new Argument<string>("name");
        var cmd = new Command(verb, description) { name };
        cmd.SetAction((pr, ct) => Cli.Guard(async () =>
        {
            string home = Cli.HomeOf(pr);
            using var store = OpenStore(home);
            return await body(store, pr.GetValue(name)!, home, ct).ConfigureAwait(false);
        }));
        return cmd;
    }
}
