using Haul.Sync;
using Haul.Transfer.Congestion;

namespace Haul.Operations;

/// <summary>
/// rclone's filter flags as a request carries them. Pattern files are read when the run starts (as
/// rclone does), so a saved job picks up an edited exclude file.
/// </summary>
internal sealed record FilterSpec
{
    public static readonly FilterSpec None = new();

    public IReadOnlyList<string> Exclude { get; init; } = [];

    public IReadOnlyList<string> Include { get; init; } = [];

    public IReadOnlyList<string> ExcludeFrom { get; init; } = [];

    public IReadOnlyList<string> IncludeFrom { get; init; } = [];

    public long MinSize { get; init; } = -1;

    public long MaxSize { get; init; } = -1;

    public TimeSpan? MinAge { get; init; }

    public TimeSpan? MaxAge { get; init; }

    /// <summary>rclone's --filter rules, "+ pattern" or "- pattern", checked in order after the excludes and includes.</summary>
    public IReadOnlyList<string> Filter { get; init; } = [];

    /// <summary>Files of --filter rules, read after <see cref="Filter"/>.</summary>
    public IReadOnlyList<string> FilterFrom { get; init; } = [];

    /// <summary>Files listing the only paths to transfer (relative to the source's root); empty: no such list.</summary>
    public IReadOnlyList<string> FilesFrom { get; init; } = [];

    /// <summary>Every list the spec holds (a damaged job row or API body may hold a null one).</summary>
    public IEnumerable<IReadOnlyList<string>?> Lists => [Exclude, Include, ExcludeFrom, IncludeFrom, Filter, FilterFrom, FilesFrom];

    public SyncFilter Build() => SyncFilter.Create(
        Exclude.Concat(ExcludeFrom.SelectMany(f => ReadChecked(f, rules: false))).ToList(),
        Include.Concat(IncludeFrom.SelectMany(f => ReadChecked(f, rules: false))).ToList(),
        MinSize,
        MaxSize,
        MinAge,
        MaxAge,
        rules: Filter.Concat(FilterFrom.SelectMany(f => ReadChecked(f, rules: true))).ToList(),
        files: FilesFrom.Count == 0 ? null : FilesFrom.SelectMany(FilesFromList).ToList());

    private static List<string> FilesFromList(string file) => Sync.FilesFrom.Read(file);

    /// <summary>
    /// A rules file's patterns, each checked here so that a bad one is reported by file and line, never
    /// by its text: a job's or API caller's --exclude-from may name any file the node can read, and its
    /// error goes back to that caller.
    /// </summary>
    private static List<string> ReadChecked(string file, bool rules)
    {
        var lines = SyncFilter.ReadRules(file).ToList();
        for (int i = 0; i < lines.Count; i++)
        {
            try
            {
                _ = rules ? SyncFilter.Create([], [], rules: [lines[i]]) : SyncFilter.Create([lines[i]], []);
            }
            catch (HaulException)
            {
                throw new HaulException(ErrorCode.Usage, $"filter file {file}: {(rules ? "rule" : "pattern")} {i + 1} is not a {(rules ? "rule" : "pattern")}", rules ? "rules are '+ PATTERN' or '- PATTERN', one per line; see 'haul sync --help'" : "patterns use * ** ? [abc] {a,b}, one per line; see 'haul sync --help'");
            }
        }

        return lines;
    }
}

/// <summary>
/// A one-way run between two ends (haul sync, copy, check; POST /transfers kind sync/copy/check; a
/// job). Each end as a user names it: a local path, peer:folder/path or s3://bucket/prefix.
/// </summary>
internal sealed record SyncRequest(SyncMode Mode, string Source, string Dest)
{
    public FilterSpec Filter { get; init; } = FilterSpec.None;

    public bool DryRun { get; init; }

    public bool Checksum { get; init; }

    public string? BackupDir { get; init; }

    /// <summary>Files copied in parallel; 0: the default (8), as rclone runs with --transfers 0.</summary>
    public int Transfers { get; init; } = DefaultTransfers;

    public const int DefaultTransfers = 8;

    public long MaxDelete { get; init; } = -1;

    /// <summary>sync: also delete destination files the filters leave out (rclone's --delete-excluded).</summary>
    public bool DeleteExcluded { get; init; }

    /// <summary>Compare by size only: a file of the same size is left alone, whatever its time (rclone's --size-only).</summary>
    public bool SizeOnly { get; init; }

    /// <summary>Leave alone every file the destination already has, whatever its size and time (rclone's --ignore-existing).</summary>
    public bool IgnoreExisting { get; init; }

    /// <summary>rclone's --bwlimit text: "10M" or a timetable "08:00,10M 18:00,off".</summary>
    public string? BandwidthLimit { get; init; }

    /// <summary>A constant limit in bytes/s (an API client's "maxRate"), used when <see cref="BandwidthLimit"/> is not set.</summary>
    public double? MaxBytesPerSec { get; init; }

    public string? S3Endpoint { get; init; }

    public string? S3Region { get; init; }

    public string? S3Profile { get; init; }

    /// <summary>-L/--copy-links: a local source's symlinks are listed as what they point at (check: both local ends).</summary>
    public bool CopyLinks { get; init; }

    public S3Config S3 => new(S3Endpoint, S3Region, S3Profile, null, null);

    /// <summary>The source as parsed (a one-line error for an end that cannot be one).</summary>
    public EndSpec SourceEnd => EndSpec.Parse(Source);

    public EndSpec DestEnd => EndSpec.Parse(Dest);

    /// <summary>The runner's options, checked: a bad end or flag fails here, before either end is opened.</summary>
    public SyncOptions ToOptions()
    {
        _ = (SourceEnd, DestEnd);
        CheckFlags();
        return Options();
    }

    /// <summary>Flags that contradict each other or the mode are refused, not silently ignored (checked before a run is accepted; reads no file).</summary>
    public void CheckFlags()
    {
        if (Transfers < 0)
        {
            throw new HaulException(ErrorCode.Usage, $"--transfers {Transfers} is not a number of files", "give 1 to 256, or 0 for the default (8)");
        }

        if (SizeOnly && Checksum)
        {
            throw new HaulException(ErrorCode.Usage, "--size-only and --checksum contradict each other", "compare by size only, or by content, not both");
        }

        if (DeleteExcluded && Mode != SyncMode.Sync)
        {
            throw new HaulException(ErrorCode.Usage, $"--delete-excluded applies to sync, not {(Mode == SyncMode.Copy ? "copy" : "check")}", "use 'haul sync' to delete excluded files on the destination");
        }

        if (IgnoreExisting && Mode == SyncMode.Check)
        {
            throw new HaulException(ErrorCode.Usage, "--ignore-existing applies to sync and copy, not check", "leave it out of the check");
        }
    }

    private SyncOptions Options() => new()
    {
        Mode = Mode,
        DryRun = DryRun && Mode != SyncMode.Check,
        Checksum = Checksum,
        SizeOnly = SizeOnly,
        IgnoreExisting = IgnoreExisting,
        DeleteExcluded = DeleteExcluded && Mode == SyncMode.Sync,
        Filter = Filter.Build(),
        BackupDir = BackupDir,
        Transfers = Transfers == 0 ? DefaultTransfers : Math.Min(Transfers, 256),
        MaxDelete = MaxDelete,
        BandwidthLimit = BandwidthLimit is not null ? BandwidthSchedule.Parse(BandwidthLimit)
            : MaxBytesPerSec is > 0 and < 5e9 ? BandwidthSchedule.Constant(MaxBytesPerSec.Value) : null,
    };
}

/// <summary>A two-way run (haul bisync; POST /transfers kind bisync).</summary>
internal sealed record BisyncRequest(string Path1, string Path2)
{
    public ConflictPolicy Conflict { get; init; } = ConflictPolicy.Newer;

    public double MaxDeletePercent { get; init; } = 50;

    public bool Resync { get; init; }

    public bool DryRun { get; init; }

    public FilterSpec Filter { get; init; } = FilterSpec.None;

    /// <summary>-L/--copy-links: both local ends' symlinks are listed as what they point at.</summary>
    public bool CopyLinks { get; init; }

    public static ConflictPolicy ParseConflict(string text) => text switch
    {
        "newer" => ConflictPolicy.Newer,
        "older" => ConflictPolicy.Older,
        "larger" => ConflictPolicy.Larger,
        "path1" => ConflictPolicy.Path1,
        "path2" => ConflictPolicy.Path2,
        _ => throw new HaulException(ErrorCode.Usage, $"conflict policy '{text}' is not one Haul knows", "use newer, older, larger, path1 or path2"),
    };

    public void Validate()
    {
        _ = (EndSpec.Parse(Path1), EndSpec.Parse(Path2));

        if (MaxDeletePercent is < 0 or > 100 || double.IsNaN(MaxDeletePercent))
        {
            throw new HaulException(ErrorCode.Usage, $"max-delete {MaxDeletePercent} is not a percentage", "give 0 to 100");
        }
    }
}

/// <summary>A file or folder to a peer's inbox (haul send; POST /transfers kind send; a job).</summary>
internal sealed record SendRequest(string Path, string Peer)
{
    /// <summary>Move the data over the TLS connection instead of UDP.</summary>
    public bool Tcp { get; init; }

    /// <summary>The pacing policy; null: the node's default ('haul policy').</summary>
    public RatePolicy? Rate { get; init; }

    /// <summary>-L/--copy-links: send what the tree's symlinks point at, as regular files and folders.</summary>
    public bool CopyLinks { get; init; }
}
