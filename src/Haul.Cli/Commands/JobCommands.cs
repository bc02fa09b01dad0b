using System.CommandLine;
using System.Diagnostics;
using Haul.Jobs;
using Haul.Node;

namespace Haul.Cli.Commands;

/// <summary>haul job add/list/run/pause/resume/remove/history: saved commands a running node runs on a schedule or on change.</summary>
internal static class JobCommands
{
    private static readonly string[] Verbs = ["sync", "copy", "check", "send"];

    public static Command Create()
    {
        var job = new Command("job", "Scheduled and watched jobs, run by 'haul serve'");
        job.Subcommands.Add(Add());
        job.Subcommands.Add(List());
        job.Subcommands.Add(Simple("run", "Run a job now, here, and record the result", async (store, name, home, ct) =>
        {
            var j = store.Get(name);
            var (code, msg) = await JobScheduler.RunOnceAsync(store, j, "manual", (x, t, c) => RunProcessAsync(home, x, c), TimeProvider.System, ct).ConfigureAwait(false);
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

    /// <summary>Runs a job's command as a child haul process; the message is the last line it wrote to stderr (the summary or the error).</summary>
    internal static Task<(int ExitCode, string Message)> RunProcessAsync(string home, Job job, CancellationToken ct) => RunProcessAsync(home, job.Command, ct);

    /// <summary>Runs 'haul --home HOME ARGV...' as a child process; returns its exit code and last line on stderr.</summary>
    internal static async Task<(int ExitCode, string Message)> RunProcessAsync(string home, IReadOnlyList<string> argv, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--home");
        psi.ArgumentList.Add(home);
        foreach (var a in argv)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        string last = string.Empty;
        var err = Task.Run(async () =>
        {
            while (await p.StandardError.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
            {
                if (line.Length > 0)
                {
                    last = line;
                }
            }
        }, CancellationToken.None);
        var drain = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
        try
        {
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(err, drain).ConfigureAwait(false);
        return (p.ExitCode, last);
    }

    /// <summary>A checked job: a usable name, --every or --watch, and a haul command that parses.</summary>
    internal static Job Build(string n, string[] argv, string? e, string? w, DateTimeOffset now)
    {
        if (n.Length is 0 or > 64 || n.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new HaulException(ErrorCode.Usage, $"'{n}' is not a usable job name", "use letters, digits, '-', '_' or '.'");
        }

        if (e is null && w is null)
        {
            throw new HaulException(ErrorCode.Usage, "a job needs --every or --watch", "e.g. --every \"0 2 * * *\" or --watch /data/cams");
        }

        if (argv.Length == 0 || !Verbs.Contains(argv[0]))
        {
            throw new HaulException(ErrorCode.Usage, $"a job runs one of {string.Join(", ", Verbs)}, not '{(argv.Length == 0 ? string.Empty : argv[0])}'", "write the command after --, e.g. -- sync /data/new hub:incoming");
        }

        // A job runs as this node: '@FILE' (a response file, expanded by the parser here and again in
        // the child) read local files into the command and its error text (the API token came back in a
        // 400's detail), and '--home' would run it as another node.
        foreach (var a in argv)
        {
            if (a.StartsWith('@') || a == "--home" || a.StartsWith("--home=", StringComparison.Ordinal))
            {
                throw new HaulException(ErrorCode.Usage, $"a job's command may not contain '{(a.StartsWith('@') ? "@FILE" : "--home")}'", "write the arguments out; a job always runs as this node");
            }
        }

        var parsed = Cli.BuildRoot().Parse(argv);
        if (parsed.Errors.Count > 0)
        {
            throw new HaulException(ErrorCode.Usage, $"the job's command does not parse: {parsed.Errors[0].Message}", $"try it by hand first: haul {string.Join(' ', argv)}");
        }

        var schedule = e is null ? null : Schedule.Parse(e);
        string? watchPath = w is null ? null : Path.GetFullPath(w);
        if (watchPath is not null && !Directory.Exists(watchPath))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"--watch {w}: no such folder", "create it, or check the path");
        }

        return new Job(n, argv, schedule?.Text, watchPath, false, schedule?.Next(now), null, null, null, now);
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
            var job = Build(pr.GetValue(name)!, pr.GetValue(command)!, pr.GetValue(every), pr.GetValue(watch), now);
            string home = HaulHome.Resolve(pr.GetValue(Cli.Home));
            using var store = new JobStore(HaulHome.DatabasePath(home));
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
            using var store = new JobStore(HaulHome.DatabasePath(HaulHome.Resolve(pr.GetValue(Cli.Home))));
            foreach (var j in store.List())
            {
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("name", j.Name), ("command", string.Join(' ', j.Command)), ("every", j.Every), ("watch", j.WatchPath), ("paused", j.Paused), ("nextRun", j.NextRun?.ToString("o")), ("lastRun", j.LastRun?.ToString("o")), ("lastExitCode", j.LastExitCode), ("lastMessage", j.LastMessage))
                    : $"{j.Name,-16} {(j.Paused ? "paused " : string.Empty)}{(j.Every is not null ? $"every '{j.Every}'" : $"watch {j.WatchPath}")}  next {j.NextRun?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss") ?? "-"}  last {(j.LastRun is null ? "never" : $"{j.LastRun.Value.ToLocalTime():yyyy-MM-dd HH:mm:ss} exit {j.LastExitCode}")}  haul {string.Join(' ', j.Command)}");
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
            using var store = new JobStore(HaulHome.DatabasePath(HaulHome.Resolve(pr.GetValue(Cli.Home))));
            store.Get(pr.GetValue(name)!);
            foreach (var r in store.History(pr.GetValue(name)!))
            {
                Console.Out.WriteLine(pr.GetValue(json)
                    ? Json.Line(("job", r.Job), ("trigger", r.Trigger), ("startedAt", r.StartedAt.ToString("o")), ("finishedAt", r.FinishedAt?.ToString("o")), ("exitCode", r.ExitCode), ("message", r.Message))
                    : $"{r.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss} {r.Trigger,-8} exit {r.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}  {r.Message}");
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
            string home = HaulHome.Resolve(pr.GetValue(Cli.Home));
            using var store = new JobStore(HaulHome.DatabasePath(home));
            return await body(store, pr.GetValue(name)!, home, ct).ConfigureAwait(false);
        }));
        return cmd;
    }
}
