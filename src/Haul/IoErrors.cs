namespace Haul;

/// <summary>Classifies I/O failures the same way everywhere a user can hit them.</summary>
internal static class IoErrors
{
    /// <summary>ENOSPC as .NET reports it on Linux (errno in HResult, or the message), or ERROR_DISK_FULL.</summary>
    public static bool IsDiskFull(IOException io) =>
        io.HResult == 28 || io.HResult == unchecked((int)0x80070070) || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    /// <summary>EROFS: the file system is mounted read-only (errno in HResult, or the message).</summary>
    public static bool IsReadOnlyFileSystem(IOException io) =>
        io.HResult == 30 || io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase);
}
