using System.Runtime.InteropServices;

namespace Haul;

/// <summary>The few Linux calls the base library does not expose.</summary>
internal static partial class Native
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 1;

    /// <summary>True for FIFOs, sockets and devices (statx's layout is the same on every architecture).</summary>
    public static unsafe bool IsSpecialFile(string path)
    {
        byte* buf = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buf) != 0)
        {
            return false;
        }

        ushort mode = *(ushort*)(buf + 28);
        return (mode & 0xF000) != 0x8000 && (mode & 0xF000) != 0x4000 && (mode & 0xF000) != 0xA000;
    }

    /// <summary>Size, times and inode of a file (not following symlinks); throws if it is gone.</summary>
    public static unsafe FileStat Stat(string path)
    {
        byte* buf = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, 0x7ff /* STATX_BASIC_STATS */, buf) != 0)
        {
            throw new FileNotFoundException($"cannot stat {path} (errno {Marshal.GetLastPInvokeError()})", path);
        }

        static long Ns(byte* t) => (*(long*)t * 1_000_000_000L) + *(uint*)(t + 8);
        return new FileStat(*(long*)(buf + 40), Ns(buf + 112), *(long*)(buf + 32), Ns(buf + 96));
    }

    /// <summary>Size, times and inode of what <paramref name="path"/> names after following symlinks (-L/--copy-links); throws if it is gone.</summary>
    public static unsafe FileStat StatFollowing(string path)
    {
        byte* buf = stackalloc byte[256];
        if (statx(AtFdCwd, path, 0, 0x7ff /* STATX_BASIC_STATS */, buf) != 0)
        {
            throw new FileNotFoundException($"cannot stat {path} (errno {Marshal.GetLastPInvokeError()})", path);
        }

        static long Ns(byte* t) => (*(long*)t * 1_000_000_000L) + *(uint*)(t + 8);
        return new FileStat(*(long*)(buf + 40), Ns(buf + 112), *(long*)(buf + 32), Ns(buf + 96));
    }

    /// <summary>The device and inode of the folder <paramref name="path"/> leads to (links followed): one folder reached two ways has one identity.</summary>
    public static unsafe (long Dev, long Ino) DirectoryId(string path)
    {
        byte* buf = stackalloc byte[256];
        if (statx(AtFdCwd, path, 0, 0x7ff, buf) != 0)
        {
            return (-1, -1);
        }

        return (((long)*(uint*)(buf + 136) << 32) | *(uint*)(buf + 140), *(long*)(buf + 32));
    }

    /// <summary>Sleeps about <paramref name="micros"/> microseconds (nanosleep; the thread's timer slack, 50 µs by default, comes on top).</summary>
    public static unsafe void SleepMicroseconds(long micros)
    {
        if (micros <= 0)
        {
            return;
        }

        long* ts = stackalloc long[2];
        ts[0] = micros / 1_000_000;
        ts[1] = micros % 1_000_000 * 1000;
        nanosleep(ts, null);
    }

    [LibraryImport("libc")]
    private static unsafe partial int nanosleep(long* request, long* remaining);

    /// <summary>rename(2): 0, or the errno. One system call where File.Move makes three (two lstats first).</summary>
    public static int Rename(string from, string to) => rename(from, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int rename(string from, string to);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    /// <summary>
    /// Flushes the file system holding <paramref name="path"/> (syncfs), so a receipt is only signed for
    /// data on disk. Throws when it cannot be opened or the flush reports a write-back error (syncfs does
    /// since Linux 5.8): a receipt must not follow.
    /// </summary>
    public static void SyncFileSystem(string path)
    {
        int fd = open(path, 0x80000 /* O_RDONLY | O_CLOEXEC */);
        if (fd < 0)
        {
            throw new IOException($"cannot open {path} to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (syncfs(fd) != 0)
            {
                throw new IOException($"flushing the file system under {path} failed (errno {Marshal.GetLastPInvokeError()})", Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            close(fd);
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int syncfs(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc")]
    private static partial int munmap(nint addr, nuint length);

    /// <summary>
    /// A large scratch buffer mapped straight from the kernel and unmapped on dispose: its pages leave
    /// the process the moment it is done (a pooled array stays in the GC heap; a big malloc block may
    /// stay in the allocator's arena).
    /// </summary>
    public sealed unsafe class PageBuffer : IDisposable
    {
        private nint _p;

        public PageBuffer(int length)
        {
            Length = length;
            _p = mmap(0, (nuint)length, 3 /* PROT_READ | PROT_WRITE */, 0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
            if (_p == -1)
            {
                _p = 0;
                throw new OutOfMemoryException($"mmap of {length} bytes failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }

        public int Length { get; }

        public Span<byte> Span => _p == 0 ? throw new ObjectDisposedException(nameof(PageBuffer)) : new((void*)_p, Length);

        public void Dispose()
        {
            if (_p != 0)
            {
                munmap(_p, (nuint)Length);
                _p = 0;
            }
        }
    }
}
