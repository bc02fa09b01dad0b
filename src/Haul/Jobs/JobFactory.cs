using Haul.Operations;

namespace Haul.Jobs;

/// <summary>Checks a new job the same way for every surface (haul job add, POST /jobs): a usable name, a trigger, a spec that reads, a schedule that parses and a folder to watch that exists.</summary>
internal static class JobFactory
{
    /// <param name="display">The haul command line the job is shown as.</param>
    /// <param name="readSpec">Reads the spec (a command line through the CLI's grammar, or a typed body); called after the name and trigger are checked.</param>
    public static Job Create(string name, IReadOnlyList<string> display, Func<TransferRequest> readSpec, string? every, string? watch, DateTimeOffset now)
    {
        if (name.Length is 0 or > 64 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new HaulException(ErrorCode.Usage, $"'{Security.Printable.Of(name, 80)}' is not a usable job name", "use letters, digits, '-', '_' or '.'");
        }

        if (every is null && watch is null)
        {
            throw new HaulException(ErrorCode.Usage, "a job needs --every or --watch", "e.g. --every \"0 2 * * *\" or --watch /data/cams");
        }

        var spec = readSpec();
        var schedule = every is null ? null : Schedule.Parse(every);
        string? watchPath = watch is null ? null : Path.GetFullPath(watch);
        if (watchPath is not null && !Directory.Exists(watchPath))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"--watch {watch}: no such folder", "create it, or check the path");
        }

        return new Job(name, display, schedule?.Text, watchPath, false, schedule?.Next(now), null, null, null, now, spec);
    }

    /// <summary>How a typed spec is shown where a command line is expected (haul job list).</summary>
    public static IReadOnlyList<string> Display(TransferRequest spec) => spec.Kind switch
    {
        TransferKind.Send => ["send", spec.Path, spec.Peer],
        TransferKind.Pull => ["copy", $"{spec.Peer}:{spec.Path}", spec.Destination ?? string.Empty],
        _ => [spec.Kind.Wire(), spec.Path, spec.Destination ?? string.Empty],
    };
}
