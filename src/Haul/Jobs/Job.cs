namespace Haul.Jobs;

/// <summary>
/// A saved command the node runs on a schedule or when a folder changes. Command is the haul argument
/// vector after the verb's own checks (e.g. ["sync", "/data/new", "s3://bucket/incoming"]).
/// </summary>
internal sealed record Job(
    string Name,
    IReadOnlyList<string> Command,
    string? Every,
    string? WatchPath,
    bool Paused,
    DateTimeOffset? NextRun,
    DateTimeOffset? LastRun,
    int? LastExitCode,
    string? LastMessage,
    DateTimeOffset CreatedAt);
