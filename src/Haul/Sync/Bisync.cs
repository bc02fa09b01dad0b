using Haul.Content;
using Microsoft.Data.Sqlite;

namespace Haul.Sync;

/// <summary>How bisync settles a file changed on both sides since the last run.</summary>
internal enum ConflictPolicy
{
    Newer,
    Older,
    Larger,
    Path1,
    Path2,
}

internal sealed record BisyncOptions
{
    public ConflictPolicy Conflict { get; init; } = ConflictPolicy.Newer;

    /// <summary>Refuse a run that would delete more than this share (in percent) of either side's files.</summary>
    public double MaxDeletePercent { get; init; } = 50;

    public bool DryRun { get; init; }

    public SyncFilter Filter { get; init; } = SyncFilter.Everything;

    /// <summary>Forget the saved listings and start over as on a first run (copies both ways, deletes nothing).</summary>
    public bool Resync { get; init; }

    /// <summary>This node's name, for conflict copies made on a local side.</summary>
    public string NodeName { get; init; } = "local";

    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;
}

internal enum BisyncActionKind
{
    CopyTo2,
    CopyTo1,
    DeleteOn1,
    DeleteOn2,
    Conflict,
}

/// <summary>One planned step. For a conflict, <see cref="Winner"/> is 1 or 2 and <see cref="ConflictName"/> the loser's new name.</summary>
internal sealed record BisyncAction(BisyncActionKind Kind, string Path, SyncEntry? Entry1, SyncEntry? Entry2, int Winner = 0, string? ConflictName = null);

internal sealed class BisyncStats
{
    public long Listed1;
    public long Listed2;
    public long CopiedTo1;
    public long CopiedTo2;
    public long DeletedOn1;
    public long DeletedOn2;
    public long Conflicts;
    public bool FirstRun;

    /// <summary>Files and bytes this run will copy, known once planned (for progress).</summary>
    public long PlannedFiles;
    public long PlannedBytes;

    /// <summary>Files and bytes copied so far, as they land (for progress).</summary>
    public long FilesMoved;
    public long BytesMoved;

    public TimeSpan Elapsed { get; set; }
}

/// <summary>
/// Two-way sync (rclone bisync's model). The listing of both sides after the last successful run is kept
/// in SQLite (HAUL_HOME/bisync.db); this run's listings are compared with it to tell, per file and side,
/// new, changed, deleted or unchanged. A change propagates to the other side, a deletion deletes there
/// (unless the other side changed the file: the change wins), and a file changed on both sides is a
/// conflict: the policy picks the winner, and the loser is kept under
/// "name.conflict-DATE-NODE.ext" on both sides, so nothing is lost. The first run (or --resync) only
/// copies: what is missing on a side is copied to it, different files on both sides are conflicts, and
/// nothing is deleted. A run that would delete more than --max-delete percent of a side changes nothing.
/// The new baseline is what this run made identical, built from the listings taken before it (as rclone
/// bisync does), never a listing taken after it: a file edited during the run keeps its old entry, so
/// the next run sees the edit (and a later edit on the other side is a conflict, not an overwrite).
/// It is saved only when every step succeeded; a failed run is simply re-planned. A name refused by
/// the path rule is skipped with one line: the run then deletes nothing and keeps the old baseline.
/// </summary>
internal sealed class BisyncRunner(ISyncEnd path1, ISyncEnd path2, BisyncOptions options, BisyncState state, SyncLog log)
{
    private static readonly long MtimeWindowTicks = TimeSpan.FromMilliseconds(1).Ticks;
    private readonly BisyncStats _stats = new();
    private long _refused;

    /// <summary>The run's counters, live (progress reads them while it runs).</summary>
    public BisyncStats Stats => _stats;

    public Action<BisyncAction>? OnPlanned { get; init; }

    public static string KeyOf(ISyncEnd end) => end switch
    {
        LocalEnd l => "local:" + l.Root,
        IBatchedSyncEnd p => p.StateKey,
        _ => throw Unsupported(end),
    };

    public async Task<BisyncStats> RunAsync(CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        foreach (var e in new[] { path1, path2 })
        {
            _ = KeyOf(e);
        }

        if (path1 is IBatchedSyncEnd && path2 is IBatchedSyncEnd)
        {
            throw new HaulException(ErrorCode.Usage, "bisync between two peers' folders is not supported", "bisync each peer with a local folder");
        }

        foreach (var e in new[] { path1, path2 })
        {
            if (!await e.ExistsAsync(ct).ConfigureAwait(false))
            {
                throw new HaulException(ErrorCode.PathNotFound, $"{e.Display} does not exist", "create it first (bisync does not create a side, so a typo cannot empty the other)");
            }
        }

        string pair = KeyOf(path1) + "\n" + KeyOf(path2);
        var prev = options.Resync ? null : state.Load(pair);
        _stats.FirstRun = prev is null;
        var cur1 = await ListAsync(path1, ct).ConfigureAwait(false);
        var cur2 = await ListAsync(path2, ct).ConfigureAwait(false);
        _stats.Listed1 = cur1.Count;
        _stats.Listed2 = cur2.Count;

        var plan = await PlanAsync(prev, cur1, cur2, ct).ConfigureAwait(false);
        long del1 = plan.Count(a => a.Kind == BisyncActionKind.DeleteOn1), del2 = plan.Count(a => a.Kind == BisyncActionKind.DeleteOn2);
        foreach (var (n, before, side) in new[] { (del1, prev?.Side1.Count ?? 0, path1), (del2, prev?.Side2.Count ?? 0, path2) })
        {
            if (n > 0 && n * 100.0 / Math.Max(before, 1) > options.MaxDeletePercent)
            {
                throw new HaulException(ErrorCode.SyncIncomplete, $"bisync would delete {n} of {before} files on {side.Display}, more than --max-delete {options.MaxDeletePercent}%; nothing was changed", "check that side is complete, or raise --max-delete");
            }
        }

        if (_refused > 0)
        {
            // rclone's rule: no deletions after errors (a skipped name may be what a deletion relies on).
            plan.RemoveAll(a => a.Kind is BisyncActionKind.DeleteOn1 or BisyncActionKind.DeleteOn2);
        }

        foreach (var a in plan)
        {
            OnPlanned?.Invoke(a);
        }

        if (!options.DryRun)
        {
            await ExecuteAsync(plan, ct).ConfigureAwait(false);
        }

        if (_refused > 0)
        {
            throw new HaulException(ErrorCode.SyncIncomplete, $"{_refused} unsafe names were skipped (see the 'refused' lines); nothing was deleted and the last baseline is kept", "rename or remove those files where they are listed, then run again");
        }

        if (!options.DryRun)
        {
            var (base1, base2) = Baseline(cur1, cur2, plan);
            state.Save(pair, base1, base2);
        }

        _stats.Elapsed = started.Elapsed;
        return _stats;
    }

    /// <summary>
    /// Per path, the state this run made identical on both sides, from the listings taken before the run:
    /// an untouched pair keeps its listed entries; a copied file is recorded on both sides as the entry
    /// that was copied (its size and time travel with it); a conflict records the winner at the path and
    /// the loser at its new name; a deletion records nothing. A file edited after the listing therefore
    /// still differs from its baseline entry next time, so the edit is seen and propagated (or, if the
    /// other side changed too, becomes a conflict).
    /// </summary>
    private static (Dictionary<string, SyncEntry> Side1, Dictionary<string, SyncEntry> Side2) Baseline(Dictionary<string, SyncEntry> cur1, Dictionary<string, SyncEntry> cur2, List<BisyncAction> plan)
    {
        var b1 = new Dictionary<string, SyncEntry>(StringComparer.Ordinal);
        var b2 = new Dictionary<string, SyncEntry>(StringComparer.Ordinal);
        var acted = new HashSet<string>(plan.Select(a => a.Path), StringComparer.Ordinal);
        foreach (var (p, e1) in cur1)
        {
            if (!acted.Contains(p) && cur2.TryGetValue(p, out var e2))
            {
                (b1[p], b2[p]) = (e1, e2);
            }
        }

        foreach (var a in plan)
        {
            switch (a.Kind)
            {
                case BisyncActionKind.CopyTo2:
                    b1[a.Path] = b2[a.Path] = a.Entry1!;
                    break;
                case BisyncActionKind.CopyTo1:
                    b1[a.Path] = b2[a.Path] = a.Entry2!;
                    break;
                case BisyncActionKind.Conflict:
                    b1[a.Path] = b2[a.Path] = a.Winner == 1 ? a.Entry1! : a.Entry2!;
                    var loser = (a.Winner == 1 ? a.Entry2! : a.Entry1!) with { Path = a.ConflictName! };
                    b1[loser.Path] = b2[loser.Path] = loser;
                    break;
            }
        }

        return (b1, b2);
    }

    private static HaulException Unsupported(ISyncEnd end) =>
        new(ErrorCode.Usage, $"bisync works between local folders and peers' folders, not {end.Display}", "use 'haul sync' or 'haul copy' for s3:// (one way)");

    private async Task<Dictionary<string, SyncEntry>> ListAsync(ISyncEnd end, CancellationToken ct)
    {
        var d = new Dictionary<string, SyncEntry>(StringComparer.Ordinal);
        var listing = ListingGuard.Safe(
            end.ListAsync(options.Filter, ct),
            (e, why) =>
            {
                _refused++;
                log.Action("refused", ListingGuard.Printable(e.Path), detail: $"unsafe name listed by {end.Display} ({why}); skipped");
            },
            ct);
        await foreach (var e in listing.ConfigureAwait(false))
        {
            d[e.Path] = e;
        }

        return d;
    }

    private enum Change
    {
        Absent,
        New,
        Same,
        Changed,
        Deleted,
    }

    private static Change ChangeOf(SyncEntry? before, SyncEntry? now) => (before, now) switch
    {
        (null, null) => Change.Absent,
        (null, _) => Change.New,
        (_, null) => Change.Deleted,
        _ => before.Size == now.Size && Math.Abs(before.MtimeTicks - now.MtimeTicks) < MtimeWindowTicks ? Change.Same : Change.Changed,
    };

    private async Task<List<BisyncAction>> PlanAsync(BisyncSnapshot? prev, Dictionary<string, SyncEntry> cur1, Dictionary<string, SyncEntry> cur2, CancellationToken ct)
    {
        var paths = new SortedSet<string>(cur1.Keys, StringComparer.Ordinal);
        paths.UnionWith(cur2.Keys);
        if (prev is not null)
        {
            paths.UnionWith(prev.Side1.Keys);
            paths.UnionWith(prev.Side2.Keys);
        }

        var plan = new List<BisyncAction>();
        foreach (var p in paths)
        {
            cur1.TryGetValue(p, out var c1);
            cur2.TryGetValue(p, out var c2);
            SyncEntry? p1 = null, p2 = null;
            prev?.Side1.TryGetValue(p, out p1);
            prev?.Side2.TryGetValue(p, out p2);
            var ch1 = ChangeOf(p1, c1);
            var ch2 = ChangeOf(p2, c2);
            if (c1 is null && c2 is null)
            {
                continue;
            }

            if (c2 is null)
            {
                plan.Add(ch2 == Change.Deleted && ch1 == Change.Same ? new(BisyncActionKind.DeleteOn1, p, c1, null) : new(BisyncActionKind.CopyTo2, p, c1, null));
                continue;
            }

            if (c1 is null)
            {
                plan.Add(ch1 == Change.Deleted && ch2 == Change.Same ? new(BisyncActionKind.DeleteOn2, p, null, c2) : new(BisyncActionKind.CopyTo1, p, null, c2));
                continue;
            }

            if (ch1 == Change.Same && ch2 == Change.Same)
            {
                continue;
            }

            if (ch2 == Change.Same)
            {
                plan.Add(new(BisyncActionKind.CopyTo2, p, c1, c2));
                continue;
            }

            if (ch1 == Change.Same)
            {
                plan.Add(new(BisyncActionKind.CopyTo1, p, c1, c2));
                continue;
            }

            // Changed (or new) on both sides: the same content is no conflict.
            if (c1.Size == c2.Size && (Math.Abs(c1.MtimeTicks - c2.MtimeTicks) < MtimeWindowTicks
                || await path1.HashAsync(c1, false, ct).ConfigureAwait(false) == await path2.HashAsync(c2, false, ct).ConfigureAwait(false)))
            {
                continue;
            }

            int winner = options.Conflict switch
            {
                ConflictPolicy.Path1 => 1,
                ConflictPolicy.Path2 => 2,
                ConflictPolicy.Older => c2.MtimeTicks < c1.MtimeTicks ? 2 : 1,
                ConflictPolicy.Larger => c2.Size > c1.Size || (c2.Size == c1.Size && c2.MtimeTicks > c1.MtimeTicks) ? 2 : 1,
                _ => c2.MtimeTicks > c1.MtimeTicks ? 2 : 1,
            };
            var loserEnd = winner == 1 ? path2 : path1;
            string node = loserEnd is IBatchedSyncEnd pe ? pe.OwnerName : options.NodeName;
            string name = ConflictName(p, options.Now, node);
            for (int i = 2; cur1.ContainsKey(name) || cur2.ContainsKey(name); i++)
            {
                name = ConflictName(p, options.Now, $"{node}-{i}");
            }

            plan.Add(new(BisyncActionKind.Conflict, p, c1, c2, winner, name));
        }

        return plan;
    }

    /// <summary>"dir/model.pt" → "dir/model.conflict-20261122-224500-lab-b.pt" (rclone-style: the extension stays last).</summary>
    public static string ConflictName(string path, DateTimeOffset when, string node)
    {
        int slash = path.LastIndexOf('/');
        string dir = slash < 0 ? string.Empty : path[..(slash + 1)];
        string file = path[(slash + 1)..];
        int dot = file.LastIndexOf('.');
        string stem = dot > 0 ? file[..dot] : file;
        string ext = dot > 0 ? file[dot..] : string.Empty;
        string safeNode = new(node.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-').ToArray());
        return $"{dir}{stem}.conflict-{when.UtcDateTime:yyyyMMdd-HHmmss}-{safeNode}{ext}";
    }

    private async Task ExecuteAsync(List<BisyncAction> plan, CancellationToken ct)
    {
        // Conflicts first: the loser is renamed on its own side, then the winner and the renamed loser
        // travel with the ordinary copies, so both sides end with both versions.
        var to1 = new List<SyncEntry>();
        var to2 = new List<SyncEntry>();
        var renames1 = new List<(string, string)>();
        var renames2 = new List<(string, string)>();
        foreach (var a in plan)
        {
            switch (a.Kind)
            {
                case BisyncActionKind.CopyTo2:
                    to2.Add(a.Entry1!);
                    break;
                case BisyncActionKind.CopyTo1:
                    to1.Add(a.Entry2!);
                    break;
                case BisyncActionKind.Conflict:
                    var loser = a.Winner == 1 ? a.Entry2! : a.Entry1!;
                    (a.Winner == 1 ? renames2 : renames1).Add((a.Path, a.ConflictName!));
                    var moved = loser with { Path = a.ConflictName! };
                    if (a.Winner == 1)
                    {
                        to2.Add(a.Entry1!);
                        to1.Add(moved);
                    }
                    else
                    {
                        to1.Add(a.Entry2!);
                        to2.Add(moved);
                    }

                    _stats.Conflicts++;
                    log.Action("conflict", a.Path, detail: $"kept {(a.Winner == 1 ? path1 : path2).Display}'s version; the other is now {a.ConflictName}");
                    break;
            }
        }

        await RenameAsync(path1, renames1, ct).ConfigureAwait(false);
        await RenameAsync(path2, renames2, ct).ConfigureAwait(false);
        to1.Sort((x, y) => string.CompareOrdinal(x.Path, y.Path));
        to2.Sort((x, y) => string.CompareOrdinal(x.Path, y.Path));
        Interlocked.Add(ref _stats.PlannedFiles, to1.Count + to2.Count);
        Interlocked.Add(ref _stats.PlannedBytes, to1.Sum(f => f.Size) + to2.Sum(f => f.Size));
        await CopyAsync(path1, path2, to2, ct).ConfigureAwait(false);
        _stats.CopiedTo2 += to2.Count;
        await CopyAsync(path2, path1, to1, ct).ConfigureAwait(false);
        _stats.CopiedTo1 += to1.Count;
        await DeleteAsync(path1, plan.Where(a => a.Kind == BisyncActionKind.DeleteOn1).Select(a => a.Entry1!).ToList(), ct).ConfigureAwait(false);
        _stats.DeletedOn1 += plan.Count(a => a.Kind == BisyncActionKind.DeleteOn1);
        await DeleteAsync(path2, plan.Where(a => a.Kind == BisyncActionKind.DeleteOn2).Select(a => a.Entry2!).ToList(), ct).ConfigureAwait(false);
        _stats.DeletedOn2 += plan.Count(a => a.Kind == BisyncActionKind.DeleteOn2);
    }

    private static async Task RenameAsync(ISyncEnd end, List<(string From, string To)> moves, CancellationToken ct)
    {
        if (moves.Count == 0)
        {
            return;
        }

        if (end is IBatchedSyncEnd pe)
        {
            await pe.RenameAsync(moves, ct).ConfigureAwait(false);
            return;
        }

        var root = ((LocalEnd)end).Root;
        foreach (var (from, to) in moves)
        {
            string dst = Path.Combine(root, to);
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Move(Path.Combine(root, from), dst, overwrite: false);
        }
    }

    private async Task CopyAsync(ISyncEnd from, ISyncEnd to, List<SyncEntry> files, CancellationToken ct)
    {
        if (files.Count == 0)
        {
            return;
        }

        if (to is IBatchedSyncEnd push)
        {
            await push.PushAsync((LocalEnd)from, files, ct).ConfigureAwait(false);
            Landed(files.Count, files.Sum(f => f.Size));
        }
        else if (from is IBatchedSyncEnd pull)
        {
            await pull.PullAsync((LocalEnd)to, files, ct).ConfigureAwait(false);
            Landed(files.Count, files.Sum(f => f.Size));
        }
        else
        {
            foreach (var f in files)
            {
                await using var raw = await from.OpenReadAsync(f, ct).ConfigureAwait(false);
                using var hashing = new HashingStream(raw, n => Interlocked.Add(ref _stats.BytesMoved, n));
                await to.WriteAsync(f, hashing, null, ct).ConfigureAwait(false);
                Interlocked.Increment(ref _stats.FilesMoved);
            }
        }

        foreach (var f in files)
        {
            log.Action($"copied to {to.Display}", f.Path, f.Size);
        }
    }

    private void Landed(int files, long bytes)
    {
        Interlocked.Add(ref _stats.FilesMoved, files);
        Interlocked.Add(ref _stats.BytesMoved, bytes);
    }

    private async Task DeleteAsync(ISyncEnd end, List<SyncEntry> files, CancellationToken ct)
    {
        if (files.Count == 0)
        {
            return;
        }

        if (end is IBatchedSyncEnd pe)
        {
            await pe.RemoveAsync(files.Select(f => f.Path).ToList(), null, copy: false, ct).ConfigureAwait(false);
        }
        else
        {
            foreach (var f in files)
            {
                await end.DeleteAsync(f, ct).ConfigureAwait(false);
            }
        }

        foreach (var f in files)
        {
            log.Action($"deleted on {end.Display}", f.Path, f.Size);
        }
    }
}

/// <summary>The two listings saved after a successful bisync run.</summary>
internal sealed record BisyncSnapshot(Dictionary<string, SyncEntry> Side1, Dictionary<string, SyncEntry> Side2);

/// <summary>HAUL_HOME/bisync.db: per pair of ends, the listing of each side after the last successful run.</summary>
internal sealed class BisyncState : IDisposable
{
    private readonly SqliteConnection _db;

    public BisyncState(string databasePath)
    {
        _db = State.Sqlite.Open(databasePath, """
            CREATE TABLE IF NOT EXISTS pairs(pair TEXT PRIMARY KEY, saved_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS listing(
            pair TEXT NOT NULL, side INTEGER NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ticks INTEGER NOT NULL,
            PRIMARY KEY(pair, side, path)) WITHOUT ROWID;
            """);
    }

    public static BisyncState ForHome(string home) => new(Path.Combine(home, "bisync.db"));

    public BisyncSnapshot? Load(string pair)
    {
        using (var chk = _db.CreateCommand())
        {
            chk.CommandText = "SELECT 1 FROM pairs WHERE pair=$p";
            chk.Parameters.AddWithValue("$p", pair);
            if (chk.ExecuteScalar() is null)
            {
                return null;
            }
        }

        var s1 = new Dictionary<string, SyncEntry>(StringComparer.Ordinal);
        var s2 = new Dictionary<string, SyncEntry>(StringComparer.Ordinal);
        using var c = _db.CreateCommand();
        c.CommandText = "SELECT side, path, size, mtime_ticks FROM listing WHERE pair=$p";
        c.Parameters.AddWithValue("$p", pair);
        using var r = c.ExecuteReader();
        while (r.Read())
        {
            var e = new SyncEntry(r.GetString(1), r.GetInt64(2), r.GetInt64(3));
            (r.GetInt32(0) == 1 ? s1 : s2)[e.Path] = e;
        }

        return new BisyncSnapshot(s1, s2);
    }

    public void Save(string pair, Dictionary<string, SyncEntry> side1, Dictionary<string, SyncEntry> side2)
    {
        using var tx = _db.BeginTransaction();
        using (var del = _db.CreateCommand())
        {
            del.Transaction = tx;
            del.CommandText = "DELETE FROM listing WHERE pair=$p; INSERT INTO pairs(pair,saved_at) VALUES($p,$t) ON CONFLICT(pair) DO UPDATE SET saved_at=excluded.saved_at";
            del.Parameters.AddWithValue("$p", pair);
            del.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            del.ExecuteNonQuery();
        }

        using var ins = _db.CreateCommand();
        ins.Transaction = tx;
        ins.CommandText = "INSERT INTO listing(pair,side,path,size,mtime_ticks) VALUES($p,$s,$path,$size,$m)";
        var pp = ins.Parameters.Add("$p", SqliteType.Text);
        var ps = ins.Parameters.Add("$s", SqliteType.Integer);
        var ppath = ins.Parameters.Add("$path", SqliteType.Text);
        var psize = ins.Parameters.Add("$size", SqliteType.Integer);
        var pm = ins.Parameters.Add("$m", SqliteType.Integer);
        pp.Value = pair;
        foreach (var (side, list) in new[] { (1, side1), (2, side2) })
        {
            ps.Value = side;
            foreach (var e in list.Values)
            {
                (ppath.Value, psize.Value, pm.Value) = (e.Path, e.Size, e.MtimeTicks);
                ins.ExecuteNonQuery();
            }
        }

        tx.Commit();
    }

    public void Dispose() => _db.Dispose();
}
