namespace Haul.Jobs;

/// <summary>
/// A saved transfer the node runs on a schedule or when a folder changes. <see cref="Spec"/> is what
/// runs (a typed request, as POST /transfers takes it); <see cref="Command"/> is the haul command line it
/// was written as, kept for display (e.g. ["sync", "/data/new", "s3://bucket/incoming"]). A job saved by
/// a version before typed specs has a null Spec until it is migrated (<see cref="JobMigration"/>).
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
    DateTimeOffset CreatedAt,
    Operations.TransferRequest? Spec = null);
