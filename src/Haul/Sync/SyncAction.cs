using Haul.Content;

namespace Haul.Sync;

/// <summary>One step of a plan. Source is null for deletions; Dest is null for new files.</summary>
internal sealed record SyncAction(SyncActionKind Kind, string Path, SyncEntry? Source, SyncEntry? Dest);
