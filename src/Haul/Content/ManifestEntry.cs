namespace Haul.Content;

/// <summary>
/// One node of the tree. <see cref="Path"/> is relative, '/'-separated and validated by
/// <see cref="PathSafety"/>. <see cref="Chunks"/> indexes the manifest's chunk table, in file order.
/// </summary>
internal sealed record ManifestEntry(
    string Path,
    EntryKind Kind,
    UnixFileMode Mode,
    long MtimeUnixNs,
    long Size,
    int[] Chunks,
    string? LinkTarget);
