using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Haul;

/// <summary>File calls for placing what a peer sent without following a link it may have planted.</summary>
internal static partial class Native
{
    private const int ODirectoryGeneric = 0x10000;
    private const int ONoFollowGeneric = 0x20000;
    private const int ODirectoryArm = 0x4000;
    private const int ONoFollowArm = 0x8000;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int AtEmptyPath = 0x1000;

    // arm and arm64 number two open(2) flags differently from every other Linux architecture.
    private static readonly bool ArmFlags = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64;
    private static readonly int ODirectory = ArmFlags ? ODirectoryArm : ODirectoryGeneric;
    private static readonly int ONoFollow = ArmFlags ? ONoFollowArm : ONoFollowGeneric;

    /// <summary>The process's umask, read once (from /proc: calling umask(2) to read it would change it for a moment under other threads).</summary>
    public static UnixFileMode Umask { get; } = ReadUmask();

    private static UnixFileMode ReadUmask()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Umask:", StringComparison.Ordinal))
                {
                    return (UnixFileMode)(Convert.ToInt32(line["Umask:".Length..].Trim(), 8) & 0x1FF);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return (UnixFileMode)0x12; // 022, the common default, when /proc does not say
    }

    /// <summary>The path with every symlink, "." and ".." resolved (realpath(3)), or null when some part is missing.</summary>
    public static string? RealPath(string path)
    {
        nint p = realpath(path, 0);
        if (p == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(p);
        }
        finally
        {
            free(p);
        }
    }

    /// <summary>
    /// Opens <paramref name="relative"/> under <paramref name="root"/> one component at a time, refusing
    /// to follow a symlink at any of them (O_NOFOLLOW on each openat): null when a part is a symlink, is
    /// missing, or is not of the kind expected (a directory for <paramref name="directory"/>, else a
    /// regular file). The root itself is the node's own choice and is followed.
    /// </summary>
    public static SafeFileHandle? OpenBeneathNoFollow(string root, string relative, bool directory)
    {
        int dir = openat(AtFdCwd, root, ODirectory | OCloExec);
        if (dir < 0)
        {
            return null;
        }

        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            bool last = i == parts.Length - 1;
            int flags = ONoFollow | OCloExec | ONonBlock | (last && !directory ? 0 : ODirectory);
            int next = openat(dir, parts[i], flags);
            close(dir);
            if (next < 0)
            {
                return null;
            }

            dir = next;
        }

        var handle = new SafeFileHandle(dir, ownsHandle: true);
        if (FileType(handle) != (directory ? 0x4000 : 0x8000))
        {
            handle.Dispose();
            return null;
        }

        return handle;
    }

    /// <summary>The S_IFMT bits of an open file (statx on the descriptor itself).</summary>
    private static unsafe int FileType(SafeFileHandle handle)
    {
        byte* buf = stackalloc byte[256];
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (statx((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, StatxType, buf) != 0)
            {
                return -1;
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return *(ushort*)(buf + 28) & 0xF000;
    }

    /// <summary>fsync(2) on an open file: its data and metadata are on disk when this returns; throws on a write-back error.</summary>
    public static void Fsync(SafeFileHandle handle)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (fsync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fsync failed (errno {Marshal.GetLastPInvokeError()})", Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int openat(int dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint p);
}
