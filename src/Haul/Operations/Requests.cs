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

    public SyncFilter Build() => SyncFilter.Create(
        Exclude.Concat(ExcludeFrom.SelectMany(ReadChecked)).ToList(),
        Include.Concat(IncludeFrom.SelectMany(ReadChecked)).ToList(),
        MinSize,
        MaxSize,
        MinAge,
        MaxAge);

    /// <summary>
    /// A rules file's patterns, each checked here so that a bad one is reported by file and line, never
    /// by its text: a job's or API caller's --exclude-from may name any file the node can read, and its
    /// error goes back to that caller.
    /// </summary>
    private static List<string> ReadChecked(string file)
    {
        var rules = SyncFilter.ReadRules(file).ToList();
        for (int i = 0; i < rules.Count; i++)
        {
            try
            {
                SyncFilter.Create([rules[i]], []);
            }
            catch (HaulException)
            {
                throw new HaulException(ErrorCode.Usage, $"filter file {file}: pattern {i + 1} is not a pattern", "patterns use * ** ? [abc] {a,b}, one per line; see 'haul sync --help'");
            }
        }

        return rules;
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

    public int Transfers { get; init; } = 8;

    public long MaxDelete { get; init; } = -1;

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
        return Options();
    }

    private SyncOptions Options() => new()
    {
        Mode = Mode,
        DryRun = DryRun && Mode != SyncMode.Check,
        Checksum = Checksum,
        Filter = Filter.Build(),
        BackupDir = BackupDir,
        Transfers = Math.Clamp(Transfers, 1, 256),
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
