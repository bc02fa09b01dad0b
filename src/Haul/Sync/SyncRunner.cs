using System.Threading.Channels;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// Runs copy, sync or check between two ends. Both listings stream in ordinal path order and are merged
/// in one pass, so memory does not grow with the tree; the work (new, changed, touched files) goes
/// through a bounded channel to parallel workers, so many small files cost no round trip each.
/// Deletions wait in a list until every copy succeeded; any failure, or more deletions than
/// --max-delete, means nothing is deleted. A dry run reports the exact plan and changes nothing.
/// </summary>
internal sealed class SyncRunner(ISyncEnd source, ISyncEnd dest, SyncOptions options, SyncLog log, TimeProvider? time = null)
{
    private static readonly long MtimeWindowTicks = TimeSpan.FromMilliseconds(1).Ticks;
    private readonly Throttle? _throttle = options.BandwidthLimit is { } bw ? new Throttle(bw, time ?? TimeProvider.System) : null;
    private readonly SyncStats _stats = new();

    // Case-folded keys of the new files of this run: a deletion whose name differs from a new file's
    // only in case is not made (on a case-insensitive destination both names are one file, and the
    // delete step would remove what the copy just wrote). 12 bytes a new file.
    private readonly HashSet<long> _newCaseKeys = [];

    // Sync only: the folders each side has (parents of listed files, and a local end's walked folders),
    // to remove the destination's extra folders once their files are gone. One entry a folder, not a file.
    private readonly HashSet<string> _sourceDirs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _destDirs = new(StringComparer.Ordinal);

    /// <summary>Called for every planned action (the dry-run plan, or check's differences), in path order.</summary>
    public Action<SyncAction>? OnPlanned { get; init; }

    /// <summary>The run's counters, live while it runs (read them for progress; they only grow).</summary>
    public SyncStats Stats => _stats;

    public async Task<SyncStats> RunAsync(CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        DebugTrace.Mark("sync: start");
        if (!await source.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"source not found: {source.Display}", "check the path, bucket or folder name");
        }

        // A peer's folder pairs with a local folder only; copies then move in batches, each one transfer.
        var push = dest as IBatchedSyncEnd;
        var pull = source as IBatchedSyncEnd;
        if ((push is not null && source is not LocalEnd) || (pull is not null && dest is not LocalEnd))
        {
            throw new HaulException(ErrorCode.Usage, $"cannot sync {source.Display} with {dest.Display}: a peer's folder syncs with a local folder", "sync through a local folder (peer -> local, then local -> s3:// or the other peer)");
        }

        foreach (var pe in new[] { push, pull })
        {
            if (pe is not null)
            {
                pe.ListWithHashes = options.Checksum || options.Mode == SyncMode.Check;
                if (options.BandwidthLimit is { } bw && bw.RateAt(DateTime.Now) is > 0 and var r && !double.IsPositiveInfinity(r))
                {
                    pe.Rate = new Transfer.Congestion.RatePolicy { MaxBytesPerSec = r, MinBytesPerSec = Math.Min(125_000, r) };
                }
            }
        }

        if (push is not null && options.BackupDir is not null)
        {
            push.BackupSubPath(options.BackupDir);
        }

        // --delete-excluded lists the destination unfiltered, so a backup folder inside it would be an
        // extra to delete: the backups of this very run.
        if (options.DeleteExcluded && options.BackupDir is { } bd && (push is not null || bd.TrimEnd('/').StartsWith(dest.Display.TrimEnd('/') + "/", StringComparison.Ordinal)))
        {
            throw new HaulException(ErrorCode.Usage, $"--backup-dir {bd} is inside the destination, and --delete-excluded would delete it", "put the backup folder outside the destination, or leave out --delete-excluded");
        }

        foreach (var end in new[] { source, dest })
        {
            if (end is LocalEnd le)
            {
                le.RecordDirectories = options.Mode == SyncMode.Sync;
                le.OnSkippedLink = (path, why) => log.Action("notice", $"{end.Display}: {path}", detail: why);
            }
        }

        bool batched = (push ?? pull) is not null && options.Mode != SyncMode.Check && !options.DryRun;
        var pending = new List<SyncAction>();
        var touches = new List<SyncAction>();
        var deletes = new List<SyncAction>();
        var work = Channel.CreateBounded<SyncAction>(new BoundedChannelOptions(4 * Math.Max(options.Transfers, 1)) { SingleWriter = true });
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = new Task[options.DryRun || options.Mode == SyncMode.Check ? 0 : Math.Max(options.Transfers, 1)];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(work.Reader, failFast.Token), failFast.Token);
        }

        try
        {
            await foreach (var action in PlanAsync(cancellationToken).ConfigureAwait(false))
            {
                OnPlanned?.Invoke(action);
                if (action.Kind is SyncActionKind.New or SyncActionKind.Changed && options.Mode != SyncMode.Check)
                {
                    Interlocked.Increment(ref _stats.PlannedFiles);
                    Interlocked.Add(ref _stats.PlannedBytes, action.Source!.Size);
                }
                else if (action.Kind == SyncActionKind.Touch && options.Mode != SyncMode.Check)
                {
                    Interlocked.Increment(ref _stats.PlannedTouches);
                }

                if (action.Kind == SyncActionKind.New && options.Mode == SyncMode.Sync)
                {
                    _newCaseKeys.Add(CaseKey(action.Path));
                }

                if (options.Mode == SyncMode.Check)
                {
                    _stats.Differences++;
                    log.Action("differ", action.Path, detail: Describe(action.Kind));
                }
                else if (action.Kind == SyncActionKind.Delete)
                {
                    _stats.PlannedDeletes++;
                    deletes.Add(action);
                }

                else if (batched)
                {
                    (action.Kind == SyncActionKind.Touch ? touches : pending).Add(action);
                    if (pending.Count >= BatchFiles)
                    {
                        await FlushAsync(pending, push, pull, deletes, cancellationToken).ConfigureAwait(false);
                    }
                }
                else if (!options.DryRun)
                {
                    await work.Writer.WriteAsync(action, cancellationToken).ConfigureAwait(false);
                }
            }

            if (batched)
            {
                await FlushAsync(pending, push, pull, deletes, cancellationToken).ConfigureAwait(false);
                await TouchAsync(touches, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            work.Writer.TryComplete();
            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        if (_fatal is { } fatal)
        {
            // Nothing is deleted after it; the files already copied stay.
            throw fatal as HaulException ?? new HaulException(
                IoErrors.IsDiskFull((IOException)fatal) ? ErrorCode.DiskFull : ErrorCode.PermissionDenied,
                IoErrors.IsDiskFull((IOException)fatal) ? $"no space left on {dest.Display}" : $"{dest.Display} is on a read-only file system",
                "free space or remount it read-write, then run again; nothing was deleted",
                fatal);
        }

        _stats.SkippedLinks = (source as LocalEnd)?.SkippedLinks ?? 0;
        if (options.Mode == SyncMode.Check && dest is LocalEnd checkedEnd)
        {
            _stats.SkippedLinks += checkedEnd.SkippedLinks;
        }

        if (options.Mode == SyncMode.Sync && !options.DryRun)
        {
            await DeleteAsync(deletes, cancellationToken).ConfigureAwait(false);
        }

        if (options.Mode == SyncMode.Sync)
        {
            await RemoveFoldersAsync(cancellationToken).ConfigureAwait(false);
        }

        if (push is not null)
        {
            _stats.SentBytes = push.SentChunkBytes;
        }

        _stats.Elapsed = started.Elapsed;
        return _stats;
    }

    private static string Describe(SyncActionKind k) => k switch
    {
        SyncActionKind.New => "only in source",
        SyncActionKind.Delete => "only in destination",
        _ => "contents differ",
    };

    /// <summary>The same for two paths that differ only in case (a collision of the 32-bit hash costs one skipped delete, never data).</summary>
    private static long CaseKey(string path) => ((long)string.GetHashCode(path, StringComparison.OrdinalIgnoreCase) << 32) | (uint)path.Length;

    private async Task DeleteAsync(List<SyncAction> deletes, CancellationToken ct)
    {
        if (_newCaseKeys.Count > 0 && deletes.Exists(d => _newCaseKeys.Contains(CaseKey(d.Path))))
        {
            var keep = deletes.FindAll(d => _newCaseKeys.Contains(CaseKey(d.Path)));
            foreach (var d in keep)
            {
                log.Action("notice", d.Path, detail: "not deleted: a new file's name differs from it only in case (on a case-insensitive destination they are one file); the next run deletes it if it is still an extra");
            }

            _stats.SkippedDeletes += keep.Count;
            deletes = deletes.FindAll(d => !_newCaseKeys.Contains(CaseKey(d.Path)));
        }

        if (deletes.Count == 0)
        {
            return;
        }

        if (Interlocked.Read(ref _stats.Errors) > 0)
        {
            _stats.SkippedDeletes += deletes.Count;
            log.Action("notice", string.Empty, detail: $"not deleting {deletes.Count} files: {_stats.Errors} errors in this run");
            return;
        }

        if (options.MaxDelete >= 0 && deletes.Count > options.MaxDelete)
        {
            _stats.SkippedDeletes += deletes.Count;
            throw new HaulException(ErrorCode.SyncIncomplete, $"the sync would delete {deletes.Count} files, more than --max-delete {options.MaxDelete}; nothing was deleted", "check the source is complete, or raise --max-delete");
        }

        if (dest is IBatchedSyncEnd pe)
        {
            // One request per few thousand files, not a round trip each.
            try
            {
                await pe.RemoveAsync(deletes.Select(d => d.Path).ToList(), options.BackupDir, copy: false, ct).ConfigureAwait(false);
                _stats.Deleted += deletes.Count;
                _stats.BackedUp += options.BackupDir is null ? 0 : deletes.Count;
                foreach (var d in deletes)
                {
                    log.Action("deleted", d.Path, d.Dest!.Size);
                }
            }
            catch (HaulException ex)
            {
                _stats.Errors++;
                log.Action("error", string.Empty, detail: ex.Message);
            }

            return;
        }

        foreach (var d in deletes)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (options.BackupDir is not null)
                {
                    await dest.BackupAsync(d.Dest!, options.BackupDir, ct).ConfigureAwait(false);
                    _stats.BackedUp++;
                }
                else
                {
                    await dest.DeleteAsync(d.Dest!, ct).ConfigureAwait(false);
                }

                _stats.Deleted++;
                log.Action("deleted", d.Path, d.Dest!.Size);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HaulException)
            {
                _stats.Errors++;
                log.Action("error", d.Path, detail: ex.Message);
            }
        }
    }

    /// <summary>
    /// Removes the destination's folders that the source does not have, deepest first, once their files
    /// are deleted (rclone sync does the same; copy never does). Each is removed only if empty, so a folder
    /// still holding an excluded file, a link or a file whose deletion was skipped stays. Not after an error
    /// or a skipped deletion: the same rule as for files. A dry run lists them.
    /// </summary>
    private async Task RemoveFoldersAsync(CancellationToken ct)
    {
        if (dest is not IFolderEnd fe || Interlocked.Read(ref _stats.Errors) > 0 || _stats.SkippedDeletes > 0)
        {
            return;
        }

        var have = new HashSet<string>(_destDirs, StringComparer.Ordinal);
        if (dest is LocalEnd ld)
        {
            have.UnionWith(ld.ListedDirectories);
        }

        var keep = source is LocalEnd ls ? ls.ListedDirectories : null;
        var unlisted = (dest as LocalEnd)?.DirectoriesWithUnlisted;
        var extra = new List<string>();
        foreach (var d in have)
        {
            if (!_sourceDirs.Contains(d) && keep?.Contains(d) != true && unlisted?.Contains(d) != true && !options.Filter.ExcludesDirectory(d))
            {
                extra.Add(d);
            }
        }

        if (extra.Count == 0)
        {
            return;
        }

        // Descending ordinal order puts "a/b" before "a": every folder after everything inside it.
        extra.Sort(static (x, y) => string.CompareOrdinal(y, x));
        if (options.DryRun)
        {
            foreach (var d in extra)
            {
                OnPlanned?.Invoke(new SyncAction(SyncActionKind.RemoveFolder, d, null, new SyncEntry(d, 0, 0)));
            }

            _stats.FoldersRemoved = extra.Count;
            return;
        }

        try
        {
            _stats.FoldersRemoved = await fe.RemoveEmptyDirectoriesAsync(extra, ct).ConfigureAwait(false);
            if (_stats.FoldersRemoved > 0)
            {
                log.Action("removed", string.Empty, detail: $"{_stats.FoldersRemoved} folders not in the source");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HaulException && !ct.IsCancellationRequested)
        {
            _stats.Errors++;
            log.Action("error", string.Empty, detail: $"removing folders: {ex.Message}");
        }
    }

    /// <summary>Adds the folders above <paramref name="path"/> (stops at the first one already known: its parents are too).</summary>
    private static void AddParents(HashSet<string> into, string path)
    {
        for (int slash = path.LastIndexOf('/'); slash > 0 && into.Add(path[..slash]); slash = path.LastIndexOf('/', slash - 1))
        {
        }
    }

    /// <summary>The merge of both listings: one action per difference, in path order.</summary>
    private async IAsyncEnumerable<SyncAction> PlanAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var a = Prefetch.Ahead(ListingGuard.Safe(source.ListAsync(options.Filter, ct), (e, why) => Refused(source, e, why), ct), ct).GetAsyncEnumerator(ct);
        // --delete-excluded: the destination's excluded files are listed too, and so become extras to delete.
        var destListing = dest.ListAsync(options.DeleteExcluded ? SyncFilter.Everything : options.Filter, ct);
        var b = Prefetch.Ahead(ListingGuard.Safe(options.OnlyPath is { } only ? Only(destListing, only, ct) : destListing, (e, why) => Refused(dest, e, why), ct), ct).GetAsyncEnumerator(ct);
        try
        {
            bool ha = await a.MoveNextAsync().ConfigureAwait(false);
            bool hb = await b.MoveNextAsync().ConfigureAwait(false);
            while (ha || hb)
            {
                int c = !ha ? 1 : !hb ? -1 : string.CompareOrdinal(a.Current.Path, b.Current.Path);
                if (options.Mode == SyncMode.Sync)
                {
                    if (c <= 0)
                    {
                        AddParents(_sourceDirs, a.Current.Path);
                    }

                    if (c >= 0)
                    {
                        AddParents(_destDirs, b.Current.Path);
                    }
                }

                if (c < 0)
                {
                    _stats.Listed++;
                    yield return new SyncAction(SyncActionKind.New, a.Current.Path, a.Current, null);
                    ha = await a.MoveNextAsync().ConfigureAwait(false);
                }
                else if (c > 0)
                {
                    if (options.Mode != SyncMode.Copy)
                    {
                        yield return new SyncAction(SyncActionKind.Delete, b.Current.Path, null, b.Current);
                    }

                    hb = await b.MoveNextAsync().ConfigureAwait(false);
                }
                else
                {
                    _stats.Listed++;
                    var kind = options.IgnoreExisting ? null : await CompareAsync(a.Current, b.Current, ct).ConfigureAwait(false);
                    if (kind is { } k)
                    {
                        yield return new SyncAction(k, a.Current.Path, a.Current, b.Current);
                    }
                    else
                    {
                        _stats.Same++;
                    }

                    ha = await a.MoveNextAsync().ConfigureAwait(false);
                    hb = await b.MoveNextAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await a.DisposeAsync().ConfigureAwait(false);
            await b.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The one entry named <paramref name="path"/> of a listing (a single file as the source: the destination's other files are no part of the run).</summary>
    private static async IAsyncEnumerable<SyncEntry> Only(IAsyncEnumerable<SyncEntry> listing, string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var e in listing.WithCancellation(ct).ConfigureAwait(false))
        {
            if (e.Path == path)
            {
                yield return e;
            }
        }
    }

    /// <summary>
    /// A listed name that could leave the destination (an S3 key like "prefix/../../x"): skipped, one line
    /// naming it, and counted as an error, so the run ends non-zero and its delete step does not run.
    /// </summary>
    private void Refused(ISyncEnd end, SyncEntry e, string why)
    {
        Interlocked.Increment(ref _stats.Errors);
        log.Action("refused", ListingGuard.Printable(e.Path), detail: $"unsafe name listed by {end.Display} ({why}); skipped");
    }

    /// <summary>Null when the destination already holds this file.</summary>
    private async Task<SyncActionKind?> CompareAsync(SyncEntry s, SyncEntry d, CancellationToken ct)
    {
        if (s.Size != d.Size)
        {
            return SyncActionKind.Changed;
        }

        if (options.SizeOnly)
        {
            return null;
        }

        bool byHash = options.Checksum || options.Mode == SyncMode.Check;
        if (!byHash && Math.Abs(s.MtimeTicks - d.MtimeTicks) >= MtimeWindowTicks)
        {
            // An object listing carries the server's time, not the file's: look at the metadata.
            s = await source.ResolveAsync(s, ct).ConfigureAwait(false);
            d = await dest.ResolveAsync(d, ct).ConfigureAwait(false);
        }

        if (!byHash && Math.Abs(s.MtimeTicks - d.MtimeTicks) < MtimeWindowTicks)
        {
            return null;
        }

        // Same size, different time (or asked to compare content): the hashes decide, from the index
        // where files are unchanged, so a touched-but-identical file costs a read at most once.
        var hs = await source.HashAsync(s, options.Checksum, ct).ConfigureAwait(false);
        var hd = await dest.HashAsync(d, options.Checksum, ct).ConfigureAwait(false);
        if (hs != hd)
        {
            return SyncActionKind.Changed;
        }

        return byHash || Math.Abs(s.MtimeTicks - d.MtimeTicks) < MtimeWindowTicks ? null : SyncActionKind.Touch;
    }

    /// <summary>
    /// A destination that is full or mounted read-only fails every file the same way: the first such
    /// error ends the run with its own code (14 or 13) instead of one error line per remaining file.
    /// </summary>
    private static bool EndsTheRun(Exception ex) => ex is HaulException { Code: ErrorCode.DiskFull }
        || (ex is HaulException { InnerException: IOException inner } && IoErrors.IsReadOnlyFileSystem(inner))
        || (ex is IOException io && (IoErrors.IsDiskFull(io) || IoErrors.IsReadOnlyFileSystem(io)));

    private Exception? _fatal;

    private async Task WorkAsync(ChannelReader<SyncAction> reader, CancellationToken ct)
    {
        await foreach (var a in reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            if (Volatile.Read(ref _fatal) is not null)
            {
                continue; // drained, not attempted: the run ends with the first fatal error
            }

            try
            {
                if (a.Kind == SyncActionKind.Touch)
                {
                    await dest.SetMtimeAsync(a.Dest!, a.Source!.MtimeTicks, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _stats.Touched);
                    log.Action("touched", a.Path);
                    continue;
                }

                await CopyAsync(a, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (EndsTheRun(ex) && !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _stats.Errors);
                Interlocked.CompareExchange(ref _fatal, ex, null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HaulException && !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _stats.Errors);
                log.Action("error", a.Path, detail: ex.Message);
            }
        }
    }

    /// <summary>Files per peer transfer: one manifest each, so a huge first sync is not one huge manifest.</summary>
    private const int BatchFiles = 50_000;

    /// <param name="deletes">Deletions planned so far: their files are offered as chunk sources (a rename or move is a
    /// new file plus a deletion; the new one is then rebuilt from the old one on the receiving side).</param>
    private async Task FlushAsync(List<SyncAction> batch, IBatchedSyncEnd? push, IBatchedSyncEnd? pull, List<SyncAction> deletes, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var files = batch.Select(a => a.Source!).ToList();
        try
        {
            var changed = batch.Where(a => a.Kind == SyncActionKind.Changed).ToList();
            if (options.BackupDir is not null && changed.Count > 0)
            {
                if (push is not null)
                {
                    // Copied, not moved: the old version stays in place as the base of the chunk-level delta.
                    await push.RemoveAsync(changed.Select(a => a.Path).ToList(), options.BackupDir, copy: true, ct).ConfigureAwait(false);
                }
                else
                {
                    foreach (var a in changed)
                    {
                        await dest.BackupAsync(a.Dest!, options.BackupDir, ct).ConfigureAwait(false);
                    }
                }

                _stats.BackedUp += changed.Count;
            }

            if (push is not null)
            {
                await push.PushAsync((LocalEnd)source, files, ct, options.Mode == SyncMode.Sync ? deletes.Select(d => d.Path).ToList() : null).ConfigureAwait(false);
            }
            else
            {
                await pull!.PullAsync((LocalEnd)dest, files, ct, options.Mode == SyncMode.Sync ? deletes.Select(d => d.Path).ToList() : null).ConfigureAwait(false);
            }

            foreach (var a in batch)
            {
                _stats.Copied++;
                _stats.CopiedBytes += a.Source!.Size;
                Interlocked.Add(ref _stats.BytesMoved, a.Source.Size);
                log.Action(a.Kind == SyncActionKind.New ? "copied" : "updated", a.Path, a.Source.Size);
            }
        }
        catch (Exception ex) when (EndsTheRun(ex) && !ct.IsCancellationRequested)
        {
            // A full or read-only destination (a peer's refuses the transfer up front): the run ends with
            // its code and one line, not one error per file of the batch.
            _stats.Errors += batch.Count;
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HaulException && !ct.IsCancellationRequested)
        {
            _stats.Errors += batch.Count;
            log.Action("error", batch[0].Path, detail: $"{batch.Count} files not transferred: {ex.Message}");
        }

        batch.Clear();
    }

    private async Task TouchAsync(List<SyncAction> touches, CancellationToken ct)
    {
        if (touches.Count == 0)
        {
            return;
        }

        try
        {
            if (dest is IBatchedSyncEnd pe)
            {
                await pe.SetTimesAsync(touches.Select(a => (a.Path, a.Source!.MtimeTicks)).ToList(), ct).ConfigureAwait(false);
            }
            else
            {
                foreach (var a in touches)
                {
                    await dest.SetMtimeAsync(a.Dest!, a.Source!.MtimeTicks, ct).ConfigureAwait(false);
                }
            }

            _stats.Touched += touches.Count;
            foreach (var a in touches)
            {
                log.Action("touched", a.Path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HaulException && !ct.IsCancellationRequested)
        {
            _stats.Errors += touches.Count;
            log.Action("error", touches[0].Path, detail: ex.Message);
        }
    }

    private async Task CopyAsync(SyncAction a, CancellationToken ct)
    {
        var s = a.Source!;
        Content.Hash256? known = dest.NeedsHashBeforeWrite ? await source.HashAsync(s, options.Checksum, ct).ConfigureAwait(false) : null;
        if (a.Kind == SyncActionKind.Changed && options.BackupDir is not null)
        {
            await dest.BackupAsync(a.Dest!, options.BackupDir, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _stats.BackedUp);
        }

        var raw = await source.OpenReadAsync(s, ct).ConfigureAwait(false);
        using var hashing = new HashingStream(_throttle is null ? raw : new ThrottledStream(raw, _throttle), n => Interlocked.Add(ref _stats.BytesMoved, n));
        await dest.WriteAsync(s, hashing, known, ct).ConfigureAwait(false);
        if (known is { } k && hashing.Hash() != k)
        {
            throw new HaulException(ErrorCode.CorruptData, $"{a.Path} changed while it was copied", "run the sync again");
        }

        Interlocked.Increment(ref _stats.Copied);
        Interlocked.Add(ref _stats.CopiedBytes, s.Size);
        log.Action(a.Kind == SyncActionKind.New ? "copied" : "updated", a.Path, s.Size);
    }
}
