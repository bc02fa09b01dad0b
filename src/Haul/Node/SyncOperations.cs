using Haul.Operations;
using Haul.Sync;
using Haul.Transfer;

namespace Haul.Node;

/// <summary>Where a run between ends happens: the node's home, its tree index, and the running node (null in a one-shot CLI run: a peer end then opens the node at <see cref="Home"/> itself).</summary>
internal sealed record SyncContext(string Home, ITreeIndex Index, HaulNode? Node);

/// <summary>A finished one-way run: its counters and the ends as they were shown.</summary>
internal sealed record SyncOutcome(SyncRequest Request, SyncStats Stats, string Source, string Dest)
{
    /// <summary>One line, as the CLI prints it and a job records it.</summary>
    public string Summary
    {
        get
        {
            var s = Stats;
            string verb = Request.Mode switch { SyncMode.Sync => "sync", SyncMode.Copy => "copy", _ => "check" };
            // A dry run copies nothing: what it would do is the result (a dry-run job or API call sees only this line).
            string what = Request.Mode == SyncMode.Check
                ? $"{s.Listed} files compared, {s.Differences} differences"
                : Request.DryRun
                ? $"would copy {s.PlannedFiles} ({Units.Bytes(s.PlannedBytes)}), would set times on {s.PlannedTouches}{(Request.Mode == SyncMode.Sync ? $", would delete {s.PlannedDeletes}" : string.Empty)}{(s.FoldersRemoved > 0 ? $", would remove {s.FoldersRemoved} folders" : string.Empty)}, {s.Same} unchanged"
                : $"{s.Copied} copied ({Units.Bytes(s.CopiedBytes)}), {s.Touched} times set, {s.Deleted} deleted{(s.BackedUp > 0 ? $" ({s.BackedUp} kept in backup)" : string.Empty)}{(s.FoldersRemoved > 0 ? $", {s.FoldersRemoved} folders removed" : string.Empty)}, {s.Same} unchanged, {s.Errors} errors{(s.SentBytes >= 0 ? $"; {Units.Bytes(s.SentBytes)} sent after the delta" : string.Empty)}";
            string links = s.SkippedLinks > 0 ? $"; {s.SkippedLinks} symlinks skipped ({(Request.CopyLinks ? "broken, looping or to a special file" : "-L/--copy-links follows them")})" : string.Empty;
            return $"{verb}{(Request.DryRun && Request.Mode != SyncMode.Check ? " (dry run)" : string.Empty)}: {what} in {s.Elapsed.TotalSeconds:0.00} s{links}";
        }
    }

    /// <summary>A check that found differences, or a run where files failed, is an error (its exit code); <paramref name="fix"/> says what to do.</summary>
    public void ThrowIfFailed(string fix)
    {
        if (Request.Mode == SyncMode.Check && Stats.Differences > 0)
        {
            throw new HaulException(ErrorCode.Differences, $"{Stats.Differences} differences between {Source} and {Dest}", "run 'haul sync' to make the destination match");
        }

        if (Stats.Errors > 0)
        {
            throw new HaulException(ErrorCode.SyncIncomplete, $"{Stats.Errors} files failed{(Stats.SkippedDeletes > 0 ? $"; {Stats.SkippedDeletes} deletions skipped" : string.Empty)}", fix);
        }
    }
}

/// <summary>A finished two-way run.</summary>
internal sealed record BisyncOutcome(BisyncRequest Request, BisyncStats Stats, string Path1, string Path2)
{
    public string Summary => $"bisync{(Request.DryRun ? " (dry run)" : string.Empty)}{(Stats.FirstRun ? " (first run: nothing deleted)" : string.Empty)}: {Stats.CopiedTo2} copied to {Path2}, {Stats.CopiedTo1} copied to {Path1}, {Stats.DeletedOn2 + Stats.DeletedOn1} deleted, {Stats.Conflicts} conflicts in {Stats.Elapsed.TotalSeconds:0.00} s";
}

/// <summary>
/// The runs between ends, as every surface starts them: `haul sync/copy/check/bisync`, POST /transfers,
/// MCP and jobs all come here with a typed request. Ends are opened from the request's specs, checked
/// (local ends may not overlap), run, and closed; progress (when asked for) is byte-level every 250 ms.
/// </summary>
internal static class SyncOperations
{
    /// <param name="options">The request's options when the caller already checked them (<see cref="SyncRequest.ToOptions"/> reads filter files); null: made here.</param>
    public static async Task<SyncOutcome> RunAsync(SyncRequest request, SyncContext context, SyncLog log, Action<SyncAction>? onPlanned, Action<TransferProgress>? progress, CancellationToken ct, SyncOptions? options = null)
    {
        options ??= request.ToOptions();
        if (request.SourceEnd.Kind == EndKind.Local && File.Exists(request.Source))
        {
            return await RunFileAsync(request, context, log, onPlanned, progress, options, ct).ConfigureAwait(false);
        }

        await using var src = await SyncEnds.OpenAsync(request.Source, context.Index, request.S3, context.Home, context.Node, write: false, ct, request.CopyLinks).ConfigureAwait(false);
        // A destination's links are followed only by check, which writes nothing.
        await using var dst = await SyncEnds.OpenAsync(request.Dest, context.Index, request.S3, context.Home, context.Node, write: options.Mode != SyncMode.Check && !options.DryRun, ct, request.CopyLinks && options.Mode == SyncMode.Check).ConfigureAwait(false);
        if (src is LocalEnd ls && dst is LocalEnd ld)
        {
            SyncEnds.CheckOverlap(ls, ld, options.BackupDir);
        }

        var stats = await RunAsync(src, dst, options, log, onPlanned, progress, ct).ConfigureAwait(false);
        return new SyncOutcome(request, stats, src.Display, dst.Display);
    }

    /// <summary>
    /// A single local file as the source, as rclone takes one: copy and sync put it into the destination
    /// folder under its name (sync deletes nothing else there: the other files are no part of the run);
    /// check compares it with the destination's file of that name, or with the destination itself when
    /// that is a file. A destination that is a file is an error for copy and sync (it would be a folder).
    /// </summary>
    private static async Task<SyncOutcome> RunFileAsync(SyncRequest request, SyncContext context, SyncLog log, Action<SyncAction>? onPlanned, Action<TransferProgress>? progress, SyncOptions options, CancellationToken ct)
    {
        string full = Path.GetFullPath(request.Source);
        string name = Path.GetFileName(full);
        options = options with { Mode = options.Mode == SyncMode.Sync ? SyncMode.Copy : options.Mode, OnlyPath = name };

        // The named file is followed when it is a link, as rclone follows the root it is given.
        await using var src = new LocalEnd(Path.GetDirectoryName(full)!, context.Index, request.Source) { OnlyName = name, FollowLinks = true };
        ISyncEnd dst;
        if (request.DestEnd.Kind == EndKind.Local && File.Exists(request.Dest))
        {
            if (options.Mode != SyncMode.Check)
            {
                string parent = Path.GetDirectoryName(request.Dest) is { Length: > 0 } d ? d : ".";
                throw new HaulException(ErrorCode.Usage, $"destination {request.Dest} is a file; {(request.Mode == SyncMode.Sync ? "sync" : "copy")} puts {name} into a folder", $"name the folder to copy into (it is made if missing), e.g. {parent}/");
            }

            string dfull = Path.GetFullPath(request.Dest);
            dst = new LocalEnd(Path.GetDirectoryName(dfull)!, context.Index, request.Dest) { OnlyName = Path.GetFileName(dfull), ListedAs = name, FollowLinks = request.CopyLinks };
        }
        else if (request.DestEnd.Kind == EndKind.Local)
        {
            dst = new LocalEnd(request.Dest, context.Index) { OnlyName = name, FollowLinks = request.CopyLinks && options.Mode == SyncMode.Check };
        }
        else
        {
            dst = await SyncEnds.OpenAsync(request.Dest, context.Index, request.S3, context.Home, context.Node, write: options.Mode != SyncMode.Check && !options.DryRun, ct).ConfigureAwait(false);
        }

        await using (dst.ConfigureAwait(false))
        {
            if (dst is LocalEnd ld && ld.Root == src.Root && ld.ListedAs is null)
            {
                throw new HaulException(ErrorCode.Usage, $"{request.Source} is already in {request.Dest}", "name another destination folder");
            }

            var stats = await RunAsync(src, dst, options, log, onPlanned, progress, ct).ConfigureAwait(false);
            return new SyncOutcome(request, stats, src.Display, dst.Display);
        }
    }

    /// <summary>A one-way run between ends the caller opened (a pull opens the peer's end by name or ID).</summary>
    public static Task<SyncStats> RunAsync(ISyncEnd src, ISyncEnd dst, SyncOptions options, SyncLog log, Action<SyncAction>? onPlanned, Action<TransferProgress>? progress, CancellationToken ct)
    {
        var runner = new SyncRunner(src, dst, options, log) { OnPlanned = onPlanned };
        string mode = dst is IBatchedSyncEnd || src is IBatchedSyncEnd ? "udp" : "local";
        var phase = options.Mode switch { SyncMode.Sync => TransferPhase.Sync, SyncMode.Copy => TransferPhase.Copy, _ => TransferPhase.Check };
        var st = runner.Stats;
        return ProgressPump.RunAsync(
            runner.RunAsync(ct),
            () => (Interlocked.Read(ref st.BytesMoved), Interlocked.Read(ref st.PlannedBytes), Interlocked.Read(ref st.Copied), Interlocked.Read(ref st.PlannedFiles)),
            phase,
            mode,
            progress,
            ct);
    }

    public static async Task<BisyncOutcome> BisyncAsync(BisyncRequest request, SyncContext context, string nodeName, SyncLog log, Action<BisyncAction>? onPlanned, Action<TransferProgress>? progress, CancellationToken ct)
    {
        request.Validate();
        var options = new BisyncOptions { Conflict = request.Conflict, MaxDeletePercent = request.MaxDeletePercent, DryRun = request.DryRun, Filter = request.Filter.Build(), Resync = request.Resync, NodeName = nodeName };
        var s3 = new S3Config(null, null, null, null, null);
        await using var e1 = await SyncEnds.OpenAsync(request.Path1, context.Index, s3, context.Home, context.Node, write: !request.DryRun, ct, request.CopyLinks).ConfigureAwait(false);
        await using var e2 = await SyncEnds.OpenAsync(request.Path2, context.Index, s3, context.Home, context.Node, write: !request.DryRun, ct, request.CopyLinks).ConfigureAwait(false);
        if (e1 is LocalEnd l1 && e2 is LocalEnd l2)
        {
            SyncEnds.CheckOverlap(l1, l2, null);
        }

        foreach (var e in new[] { e1, e2 })
        {
            if (e is LocalEnd le)
            {
                le.OnSkippedLink = (path, why) => log.Action("notice", $"{e.Display}: {path}", detail: why);
            }
        }

        using var state = BisyncState.ForHome(context.Home);
        var runner = new BisyncRunner(e1, e2, options, state, log) { OnPlanned = onPlanned };
        string mode = e1 is IBatchedSyncEnd || e2 is IBatchedSyncEnd ? "udp" : "local";
        var st = runner.Stats;
        var stats = await ProgressPump.RunAsync(
            runner.RunAsync(ct),
            () => (Interlocked.Read(ref st.BytesMoved), Interlocked.Read(ref st.PlannedBytes), Interlocked.Read(ref st.FilesMoved), Interlocked.Read(ref st.PlannedFiles)),
            TransferPhase.Bisync,
            mode,
            progress,
            ct).ConfigureAwait(false);
        return new BisyncOutcome(request, stats, e1.Display, e2.Display);
    }
}

/// <summary>Reports a run's counters every 250 ms while it runs, and once more when it ends.</summary>
internal static class ProgressPump
{
    public static async Task<T> RunAsync<T>(Task<T> run, Func<(long Bytes, long PlannedBytes, long Files, long PlannedFiles)> read, TransferPhase phase, string mode, Action<TransferProgress>? progress, CancellationToken ct)
    {
        if (progress is null)
        {
            return await run.ConfigureAwait(false);
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        void Report(TransferPhase p)
        {
            var (bytes, plannedBytes, files, plannedFiles) = read();
            progress(new TransferProgress(p, bytes, Math.Max(bytes, plannedBytes), (int)files, (int)Math.Max(files, plannedFiles), bytes / Math.Max(started.Elapsed.TotalSeconds, 1e-3), mode));
        }

        Report(phase);
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250)))
        {
            // On cancellation the run sees the same token and ends; its own exception is the one that counts.
            while (!ct.IsCancellationRequested && await Task.WhenAny(run, timer.WaitForNextTickAsync(ct).AsTask()).ConfigureAwait(false) != run)
            {
                Report(phase);
            }
        }

        var result = await run.ConfigureAwait(false);
        Report(TransferPhase.Done);
        return result;
    }
}
