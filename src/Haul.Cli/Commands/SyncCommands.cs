using System.CommandLine;
using System.Globalization;
using Haul.Node;
using Haul.Operations;
using Haul.Sync;

namespace Haul.Cli.Commands;

/// <summary>copy, sync and check: rclone's verbs over Haul's ends.</summary>
internal static class SyncCommands
{
    private static readonly Argument<string> Source = new("source") { Description = "Local path, s3://bucket/prefix or peer:folder/path" };
    private static readonly Argument<string> Dest = new("dest") { Description = "Local path, s3://bucket/prefix or peer:folder/path" };
    private static readonly Option<bool> DryRun = new("--dry-run", "-n") { Description = "Print the exact plan; change nothing" };
    private static readonly Option<bool> Checksum = new("--checksum", "-c") { Description = "Compare by SHA-256, re-reading every file, instead of size and modification time" };
    private static readonly Option<string[]> Exclude = new("--exclude") { Description = "Leave out paths matching this pattern (* ** ? [..] {a,b}); repeatable", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string[]> Include = new("--include") { Description = "Only paths matching this pattern; repeatable" };
    private static readonly Option<string[]> ExcludeFrom = new("--exclude-from") { Description = "Read exclude patterns from a file" };
    private static readonly Option<string[]> IncludeFrom = new("--include-from") { Description = "Read include patterns from a file" };
    private static readonly Option<string?> MinSize = new("--min-size") { Description = "Only files at least this big (e.g. 100k, 10M)" };
    private static readonly Option<string?> MaxSize = new("--max-size") { Description = "Only files at most this big" };
    private static readonly Option<string?> MinAge = new("--min-age") { Description = "Only files older than this (e.g. 30m, 2h, 7d)" };
    private static readonly Option<string?> MaxAge = new("--max-age") { Description = "Only files younger than this" };
    private static readonly Option<string?> BackupDir = new("--backup-dir") { Description = "Move files that would be deleted or overwritten here (same end as the destination)" };
    private static readonly Option<string?> BwLimit = new("--bwlimit") { Description = "Bandwidth limit: 10M, or a timetable like \"08:00,10M 18:00,off\"" };
    private static readonly Option<string[]> Filter = new("--filter", "-f") { Description = "Add a rule '+ PATTERN' (include) or '- PATTERN' (exclude); rules apply in order after --exclude and --include, first match wins; repeatable" };
    private static readonly Option<string[]> FilterFrom = new("--filter-from") { Description = "Read --filter rules from a file, one a line" };
    private static readonly Option<string[]> FilesFrom = new("--files-from") { Description = "Transfer only the paths listed in this file, one a line, relative to the source" };
    private static readonly Option<bool> DeleteExcluded = new("--delete-excluded") { Description = "Also delete files on the destination that the filters leave out" };
    private static readonly Option<bool> SizeOnly = new("--size-only") { Description = "Compare by size only; ignore modification times" };
    private static readonly Option<bool> IgnoreExisting = new("--ignore-existing") { Description = "Skip every file that already exists on the destination" };
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Print one line per file copied, updated, touched or deleted" };
    private static readonly Option<bool> Progress = new("--progress", "-P") { Description = "Show live progress (bytes, rate, ETA, files) on standard error" };
    private static readonly Option<int> Transfers = new("--transfers") { Description = "Files copied in parallel, up to 256; 0 means the default", DefaultValueFactory = _ => SyncRequest.DefaultTransfers };
    private static readonly Option<long> MaxDelete = new("--max-delete") { Description = "Refuse to delete more than this many files (default: no limit)", DefaultValueFactory = _ => -1 };
    private static readonly Option<string?> LogFile = new("--log-file") { Description = "Append the log to this file instead of standard error" };
    private static readonly Option<bool> JsonLog = new("--json-log") { Description = "Log as JSON lines" };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the summary (and a dry run's plan) as JSON lines on stdout" };
    private static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print only errors (no summary)" };
    private static readonly Option<bool> CopyLinks = new("--copy-links", "-L") { Description = "Follow symlinks in local trees and copy what they point at as regular files (without it each link is skipped with a notice)" };

    public static Command Sync() => Create("sync", SyncMode.Sync, "Make DEST match SOURCE: copy new and changed files, then (only if all succeeded) delete extras");

    public static Command Copy() => Create("copy", SyncMode.Copy, "Copy new and changed files from SOURCE to DEST; never deletes");

    public static Command Check() => Create("check", SyncMode.Check, "Compare SOURCE and DEST by size and SHA-256 and list every difference; changes nothing");

    private static readonly Option<string> Conflict = new("--conflict") { Description = "Who wins a file changed on both sides: newer, older, larger, path1 or path2 (the loser is kept as NAME.conflict-DATE-NODE.EXT)", DefaultValueFactory = _ => "newer" };
    private static readonly Option<double> MaxDeletePercent = new("--max-delete") { Description = "Refuse a run that would delete more than this percentage of either side's files", DefaultValueFactory = _ => 50 };
    private static readonly Option<bool> Resync = new("--resync") { Description = "Forget the saved listings: copy what is missing both ways, delete nothing (as a first run)" };

    public static Command Bisync()
    {
        var path1 = new Argument<string>("path1") { Description = "Local path or peer:folder/path" };
        var path2 = new Argument<string>("path2") { Description = "Local path or peer:folder/path" };
        var cmd = new Command("bisync", "Two-way sync: new, changed and deleted files propagate both ways; conflicts keep both versions")
        {
            path1, path2, Conflict, MaxDeletePercent, Resync, DryRun, Exclude, Include, ExcludeFrom, IncludeFrom, Filter, FilterFrom, FilesFrom, MinSize, MaxSize, MinAge, MaxAge, LogFile, JsonLog, Json, Quiet, Verbose, Progress, CopyLinks,
        };
        cmd.SetAction((pr, ct) => Cli.Guard(
            async () =>
            {
                bool json = pr.GetValue(Json);
                var request = ToBisyncRequest(pr);
                string home = Cli.HomeOf(pr);
                using var index = TreeIndex.ForHome(home);
                string nodeName = HaulNode.NameAt(home);
                var verbosity = VerbosityOf(pr, request.DryRun);
                var progress = ProgressOf(pr, json);
                using var log = new SyncLog(pr.GetValue(LogFile), pr.GetValue(JsonLog), verbosity) { BeforeConsoleLine = progress is null ? null : progress.Clear };
                BisyncOutcome outcome;
                try
                {
                    outcome = await SyncOperations.BisyncAsync(request, new SyncContext(home, index, null), nodeName, log, request.DryRun ? a => PrintBisyncPlan(a, json) : null, progress is null ? null : progress.Report, ct).ConfigureAwait(false);
                }
                finally
                {
                    progress?.Clear();
                }

                var s = outcome.Stats;
                if (json)
                {
                    Console.Out.WriteLine(Haul.Cli.Json.Line(("type", "summary"), ("command", "bisync"), ("dryRun", request.DryRun), ("firstRun", s.FirstRun), ("files1", s.Listed1), ("files2", s.Listed2), ("copiedTo1", s.CopiedTo1), ("copiedTo2", s.CopiedTo2), ("deletedOn1", s.DeletedOn1), ("deletedOn2", s.DeletedOn2), ("conflicts", s.Conflicts), ("seconds", Math.Round(s.Elapsed.TotalSeconds, 3))));
                }
                else if (!pr.GetValue(Quiet))
                {
                    Console.Error.WriteLine(outcome.Summary);
                }

                return 0;
            },
            pr.GetValue(Json)));
        return cmd;
    }

    /// <summary>The typed request a 'haul bisync' command line names (the flags checked).</summary>
    internal static BisyncRequest ToBisyncRequest(ParseResult pr)
    {
        var request = new BisyncRequest(pr.GetValue<string>("path1")!, pr.GetValue<string>("path2")!)
        {
            Conflict = BisyncRequest.ParseConflict(pr.GetValue(Conflict)!),
            MaxDeletePercent = pr.GetValue(MaxDeletePercent),
            Resync = pr.GetValue(Resync),
            DryRun = pr.GetValue(DryRun),
            Filter = ToFilter(pr),
            CopyLinks = pr.GetValue(CopyLinks),
        };
        request.Validate();
        return request;
    }

    private static void PrintBisyncPlan(BisyncAction a, bool json)
    {
        (string verb, long size) = a.Kind switch
        {
            BisyncActionKind.CopyTo2 => ("copy-to-path2", a.Entry1!.Size),
            BisyncActionKind.CopyTo1 => ("copy-to-path1", a.Entry2!.Size),
            BisyncActionKind.DeleteOn1 => ("delete-on-path1", a.Entry1!.Size),
            BisyncActionKind.DeleteOn2 => ("delete-on-path2", a.Entry2!.Size),
            _ => ($"conflict-path{a.Winner}-wins", (a.Winner == 1 ? a.Entry1 : a.Entry2)!.Size),
        };
        Console.Out.WriteLine(json
            ? Haul.Cli.Json.Line(("type", "plan"), ("action", verb), ("path", a.Path), ("size", size), ("conflictCopy", a.ConflictName))
            : $"{verb} {a.Path} ({Units.Bytes(size)}){(a.ConflictName is null ? string.Empty : " loser kept as " + a.ConflictName)}");
    }

    private static Command Create(string name, SyncMode mode, string description)
    {
        var cmd = new Command(name, description) { Source, Dest, Exclude, Include, ExcludeFrom, IncludeFrom, Filter, FilterFrom, FilesFrom, MinSize, MaxSize, MinAge, MaxAge, Checksum, SizeOnly, Transfers, LogFile, JsonLog, Json, Quiet, Verbose, CopyLinks };
        cmd.Options.Add(S3Options.Endpoint);
        cmd.Options.Add(S3Options.Region);
        cmd.Options.Add(S3Options.Profile);
        if (mode != SyncMode.Check)
        {
            cmd.Options.Add(DryRun);
            cmd.Options.Add(BackupDir);
            cmd.Options.Add(BwLimit);
            cmd.Options.Add(IgnoreExisting);
            cmd.Options.Add(Progress);
        }

        if (mode == SyncMode.Sync)
        {
            cmd.Options.Add(MaxDelete);
            cmd.Options.Add(DeleteExcluded);
        }

        cmd.SetAction((pr, ct) => Cli.Guard(() => RunAsync(pr, mode, ct), pr.GetValue(Json)));
        return cmd;
    }

    private static async Task<int> RunAsync(ParseResult pr, SyncMode mode, CancellationToken ct)
    {
        bool json = pr.GetValue(Json);
        var request = ToRequest(pr, mode);
        var options = request.ToOptions();
        string home = Cli.HomeOf(pr);
        using var index = TreeIndex.ForHome(home);
        var progress = mode == SyncMode.Check ? null : ProgressOf(pr, json);
        using var log = new SyncLog(pr.GetValue(LogFile), pr.GetValue(JsonLog), VerbosityOf(pr, request.DryRun)) { BeforeConsoleLine = progress is null ? null : progress.Clear };
        SyncOutcome outcome;
        try
        {
            outcome = await SyncOperations.RunAsync(request, new SyncContext(home, index, null), log, request.DryRun || mode == SyncMode.Check ? a => PrintPlanned(a, mode, json) : null, progress is null ? null : progress.Report, ct, options).ConfigureAwait(false);
        }
        finally
        {
            progress?.Clear();
        }

        if (json || !pr.GetValue(Quiet))
        {
            PrintSummary(outcome, json);
        }

        outcome.ThrowIfFailed("see the log for each error, fix it and run again");
        return 0;
    }

    /// <summary>The typed request a 'haul sync/copy/check' command line names; the core runs it the same way for every surface.</summary>
    internal static SyncRequest ToRequest(ParseResult pr, SyncMode mode)
    {
        var s3 = S3Options.From(pr);
        var request = new SyncRequest(mode, pr.GetValue(Source)!, pr.GetValue(Dest)!)
        {
            DryRun = mode != SyncMode.Check && pr.GetValue(DryRun),
            Checksum = pr.GetValue(Checksum),
            Filter = ToFilter(pr),
            BackupDir = mode == SyncMode.Check ? null : pr.GetValue(BackupDir),
            Transfers = pr.GetValue(Transfers),
            MaxDelete = mode == SyncMode.Sync ? pr.GetValue(MaxDelete) : -1,
            DeleteExcluded = mode == SyncMode.Sync && pr.GetValue(DeleteExcluded),
            SizeOnly = pr.GetValue(SizeOnly),
            IgnoreExisting = mode != SyncMode.Check && pr.GetValue(IgnoreExisting),
            BandwidthLimit = mode == SyncMode.Check ? null : pr.GetValue(BwLimit),
            S3Endpoint = s3.Endpoint,
            S3Region = s3.Region,
            S3Profile = s3.Profile,
            CopyLinks = pr.GetValue(CopyLinks),
        };

        // A job's command is checked when it is added, not at its first run.
        request.CheckFlags();
        return request;
    }

    private static FilterSpec ToFilter(ParseResult pr) => new()
    {
        Exclude = pr.GetValue(Exclude) ?? [],
        Include = pr.GetValue(Include) ?? [],
        ExcludeFrom = pr.GetValue(ExcludeFrom) ?? [],
        IncludeFrom = pr.GetValue(IncludeFrom) ?? [],
        Filter = pr.GetValue(Filter) ?? [],
        FilterFrom = pr.GetValue(FilterFrom) ?? [],
        FilesFrom = pr.GetValue(FilesFrom) ?? [],
        MinSize = pr.GetValue(MinSize) is { } mn ? ParseSize(mn, "--min-size") : -1,
        MaxSize = pr.GetValue(MaxSize) is { } mx ? ParseSize(mx, "--max-size") : -1,
        MinAge = pr.GetValue(MinAge) is { } a ? ParseAge(a, "--min-age") : null,
        MaxAge = pr.GetValue(MaxAge) is { } b ? ParseAge(b, "--max-age") : null,
    };

    /// <summary>
    /// What reaches standard error: by default errors, notices and one summary line (rclone and rsync print
    /// nothing; one line says the run happened and what it did); -v adds a line per file; -q only errors.
    /// A dry run's plan is its output (stdout), so its log shows errors only.
    /// </summary>
    private static SyncVerbosity VerbosityOf(ParseResult pr, bool dryRun)
    {
        bool quiet = pr.GetValue(Quiet), verbose = pr.GetValue(Verbose);
        if (quiet && verbose)
        {
            throw new HaulException(ErrorCode.Usage, "-q/--quiet and -v/--verbose contradict each other", "give one of them");
        }

        return quiet || (dryRun && pr.GetValue(LogFile) is null && !verbose) ? SyncVerbosity.Errors : verbose ? SyncVerbosity.Actions : SyncVerbosity.Notices;
    }

    /// <summary>-P: a live line on a terminal, a plain line every few seconds when standard error is not one, JSON lines with --json.</summary>
    private static ProgressRenderer? ProgressOf(ParseResult pr, bool json) => pr.GetValue(Progress) ? new ProgressRenderer(json) : null;

    /// <summary>Sizes as rclone reads them: a number with an optional b/k/M/G/T suffix in powers of 1024.</summary>
    internal static long ParseSize(string text, string flag)
    {
        string t = text.Trim();
        double mul = 1;
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            mul = char.ToUpperInvariant(t[^1]) switch
            {
                'B' => 1,
                'K' => 1024,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1L << 40,
                _ => -1,
            };
            t = t[..^1];
        }

        if (mul < 0 || !double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0)
        {
            throw new HaulException(ErrorCode.Usage, $"{flag} '{text}' is not a size", "write it like 100k, 10M or 2G");
        }

        return (long)(v * mul);
    }

    /// <summary>Ages like 90s, 30m, 2h, 7d or 2w.</summary>
    internal static TimeSpan ParseAge(string text, string flag)
    {
        string t = text.Trim();
        if (t.Length >= 2 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0)
        {
            switch (t[^1])
            {
                case 's': return TimeSpan.FromSeconds(v);
                case 'm': return TimeSpan.FromMinutes(v);
                case 'h': return TimeSpan.FromHours(v);
                case 'd': return TimeSpan.FromDays(v);
                case 'w': return TimeSpan.FromDays(7 * v);
            }
        }

        throw new HaulException(ErrorCode.Usage, $"{flag} '{text}' is not an age", "write it like 90s, 30m, 2h, 7d or 2w");
    }

    private static void PrintPlanned(SyncAction a, SyncMode mode, bool json)
    {
        string verb = (mode, a.Kind) switch
        {
            (SyncMode.Check, SyncActionKind.New) => "missing-on-dest",
            (SyncMode.Check, SyncActionKind.Delete) => "missing-on-source",
            (SyncMode.Check, _) => "differ",
            (_, SyncActionKind.New) => "copy",
            (_, SyncActionKind.Changed) => "update",
            (_, SyncActionKind.Touch) => "touch",
            (_, SyncActionKind.RemoveFolder) => "rmdir",
            _ => "delete",
        };
        long size = (a.Source ?? a.Dest)!.Size;
        Console.Out.WriteLine(json ? Haul.Cli.Json.Line(("type", "plan"), ("action", verb), ("path", a.Path), ("size", size))
            : a.Kind == SyncActionKind.RemoveFolder ? $"{verb} {a.Path}/" : $"{verb} {a.Path} ({Units.Bytes(size)})");
    }

    private static void PrintSummary(SyncOutcome outcome, bool json)
    {
        var (s, r) = (outcome.Stats, outcome.Request);
        if (json)
        {
            string verb = r.Mode switch { SyncMode.Sync => "sync", SyncMode.Copy => "copy", _ => "check" };
            Console.Out.WriteLine(Haul.Cli.Json.Line(("type", "summary"), ("command", verb), ("dryRun", r.DryRun), ("files", s.Listed), ("unchanged", s.Same), ("copied", s.Copied), ("copiedBytes", s.CopiedBytes), ("touched", s.Touched), ("deleted", s.Deleted), ("backedUp", s.BackedUp), ("differences", s.Differences), ("errors", s.Errors), ("sentBytes", s.SentBytes), ("seconds", Math.Round(s.Elapsed.TotalSeconds, 3)), ("foldersRemoved", s.FoldersRemoved), ("skippedLinks", s.SkippedLinks)));
            return;
        }

        Console.Error.WriteLine(outcome.Summary);
    }
}
