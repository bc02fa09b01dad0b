namespace Haul.Jobs;

/// <summary>One run of a job: when, why, how it ended.</summary>
internal sealed record JobRun(long Id, string Job, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, int? ExitCode, string? Message);
