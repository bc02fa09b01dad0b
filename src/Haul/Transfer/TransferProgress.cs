namespace Haul.Transfer;

/// <summary>A progress snapshot for a sender's display. Bytes count file bytes in place (deduplicated chunks count once per place).</summary>
internal sealed record TransferProgress(string Phase, long BytesDone, long BytesTotal, int FilesDone, int FilesTotal, double RateBytesPerSec, string Mode, string? Notice = null);
