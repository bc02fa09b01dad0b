using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

// haul-netem: an IP-level link emulator on two TUN devices, for kernels without tc netem.
// Usage: haul-netem TUN_A TUN_B PARAMS_FILE
// It creates the two TUN devices (the caller moves each into its network namespace and addresses
// them), then forwards every packet read from one to the other through a model of a link:
// random loss, a drop-tail queue (bytes), serialisation at a rate, then a fixed one-way delay.
// PARAMS_FILE holds "rate_bps delay_ms loss queue_bytes" and is re-read when it changes, so one
// emulator serves a whole benchmark matrix. The same parameters apply to each direction.
namespace Haul.Bench.NetEm;

internal static partial class Program
{
    private static volatile Params _p = new(100e6, 0, 0, 1_000_000);

    private static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: haul-netem TUN_A TUN_B PARAMS_FILE");
            return 2;
        }

        int a = Tun.Open(args[0]);
        int b = Tun.Open(args[1]);
        string file = args[2];
        Reload(file);
        var ab = new Direction("a->b", a, b);
        var ba = new Direction("b->a", b, a);
        ab.Start();
        ba.Start();
        Console.Error.WriteLine($"haul-netem: {args[0]} <-> {args[1]} ready");
        var last = File.GetLastWriteTimeUtc(file);
        while (true)
        {
            Thread.Sleep(200);
            var t = File.GetLastWriteTimeUtc(file);
            if (t != last)
            {
                last = t;
                Reload(file);
            }
        }
    }

    private static void Reload(string file)
    {
        var f = File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var c = CultureInfo.InvariantCulture;
        _p = new Params(double.Parse(f[0], c), double.Parse(f[1], c), double.Parse(f[2], c), double.Parse(f[3], c));
        Console.Error.WriteLine($"haul-netem: rate {_p.RateBps / 1e6} Mbit/s, delay {_p.DelayMs} ms each way, loss {_p.Loss:P1}, queue {_p.QueueBytes} B");
    }

    private sealed record Params(double RateBps, double DelayMs, double Loss, double QueueBytes);

    /// <summary>
    /// One direction: a reader applies loss, queue and serialisation; a writer releases packets when due.
    /// The writer sleeps until the head packet is due (an absolute CLOCK_MONOTONIC sleep with 1 µs timer
    /// slack) and releases everything due within the next few microseconds at once; it never spins, so
    /// at 1 Gbit/s the emulator does not take CPU from the tools it measures (spin-waiting for packets
    /// due within 0.5 ms cost a third of a core of the two). An empty line waits for the reader's signal.
    /// </summary>
    private sealed class Direction(string name, int from, int to)
    {
        private readonly Queue<(long Due, byte[] Packet, int Length)> _line = new();
        private readonly Lock _lock = new();
        private readonly SemaphoreSlim _filled = new(0);
        private readonly System.Collections.Concurrent.ConcurrentQueue<byte[]> _free = new();
        private readonly Random _rng = new(name.GetHashCode(StringComparison.Ordinal));
        private double _linkFree; // seconds (Stopwatch), when the serialiser is next idle

        public void Start()
        {
            new Thread(Read) { IsBackground = true, Name = name + "-rx", Priority = ThreadPriority.Highest }.Start();
            new Thread(Write) { IsBackground = true, Name = name + "-tx", Priority = ThreadPriority.Highest }.Start();
        }

        private static double Now => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

        private void Read()
        {
            while (true)
            {
                if (!_free.TryDequeue(out var buf))
                {
                    buf = new byte[2048];
                }

                int n = Tun.Read(from, buf);
                var p = _p;
                if (n <= 0 || (p.Loss > 0 && _rng.NextDouble() < p.Loss))
                {
                    _free.Enqueue(buf);
                    continue;
                }

                double now = Now;
                double backlog = Math.Max(0, _linkFree - now) * p.RateBps / 8;
                if (backlog + n > p.QueueBytes)
                {
                    _free.Enqueue(buf);
                    continue; // drop-tail
                }

                _linkFree = Math.Max(now, _linkFree) + (n * 8 / p.RateBps);
                double due = _linkFree + (p.DelayMs / 1000);
                bool wasEmpty;
                lock (_lock)
                {
                    wasEmpty = _line.Count == 0;
                    _line.Enqueue(((long)(due * Stopwatch.Frequency), buf, n));
                }

                if (wasEmpty)
                {
                    _filled.Release();
                }
            }
        }

        private void Write()
        {
            Tun.PreciseTimers();
            while (true)
            {
                // Packets due within a twentieth of the one-way delay (at most 50 µs) leave together.
                long early = (long)(Math.Min(50e-6, _p.DelayMs / 1000 / 20) * Stopwatch.Frequency);
                long now = Stopwatch.GetTimestamp();
                (long Due, byte[] Packet, int Length) head = default;
                bool have, empty;
                lock (_lock)
                {
                    have = _line.TryPeek(out head) && head.Due <= now + early;
                    if (have)
                    {
                        _line.Dequeue();
                    }

                    empty = !have && _line.Count == 0;
                }

                if (have)
                {
                    Tun.Write(to, head.Packet, head.Length);
                    _free.Enqueue(head.Packet);
                }
                else if (empty)
                {
                    _filled.Wait(100); // a packet into an empty line signals; the timeout only re-checks
                }
                else
                {
                    Tun.SleepUntil(head.Due);
                }
            }
        }
    }

    private static partial class Tun
    {
        private const uint TunSetIff = 0x400454ca;
        private const short IffTun = 0x0001;
        private const short IffNoPi = 0x1000;

        public static unsafe int Open(string name)
        {
            int fd = open("/dev/net/tun", 2 /* O_RDWR */);
            if (fd < 0)
            {
                throw new IOException($"open /dev/net/tun failed: errno {Marshal.GetLastPInvokeError()}");
            }

            byte* ifr = stackalloc byte[40];
            new Span<byte>(ifr, 40).Clear();
            var nameBytes = System.Text.Encoding.ASCII.GetBytes(name);
            nameBytes.AsSpan(0, Math.Min(15, nameBytes.Length)).CopyTo(new Span<byte>(ifr, 16));
            *(short*)(ifr + 16) = IffTun | IffNoPi;
            if (ioctl(fd, TunSetIff, ifr) < 0)
            {
                throw new IOException($"TUNSETIFF {name} failed: errno {Marshal.GetLastPInvokeError()}");
            }

            return fd;
        }

        public static unsafe int Read(int fd, byte[] buf)
        {
            fixed (byte* p = buf)
            {
                return (int)read(fd, p, buf.Length);
            }
        }

        public static unsafe void Write(int fd, byte[] buf, int n)
        {
            fixed (byte* p = buf)
            {
                write(fd, p, n);
            }
        }

        /// <summary>Sleeps until <paramref name="dueTicks"/> on the Stopwatch clock (CLOCK_MONOTONIC in ns on Linux).</summary>
        public static unsafe void SleepUntil(long dueTicks)
        {
            long ns = Stopwatch.Frequency == 1_000_000_000 ? dueTicks : (long)(dueTicks * (1e9 / Stopwatch.Frequency));
            long* ts = stackalloc long[2];
            ts[0] = ns / 1_000_000_000;
            ts[1] = ns % 1_000_000_000;
            clock_nanosleep(1 /* CLOCK_MONOTONIC */, 1 /* TIMER_ABSTIME */, ts, null);
        }

        /// <summary>This thread's timer slack to 1 µs (the default 50 µs would blur sub-millisecond delays).</summary>
        public static void PreciseTimers() => prctl(29 /* PR_SET_TIMERSLACK */, 1, 0, 0, 0);

        [LibraryImport("libc")]
        private static unsafe partial int clock_nanosleep(int clock, int flags, long* request, long* remain);

        [LibraryImport("libc")]
        private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int open(string path, int flags);

        [LibraryImport("libc", SetLastError = true)]
        private static unsafe partial int ioctl(int fd, uint request, byte* arg);

        [LibraryImport("libc", SetLastError = true)]
        private static unsafe partial nint read(int fd, byte* buf, nint count);

        [LibraryImport("libc", SetLastError = true)]
        private static unsafe partial nint write(int fd, byte* buf, nint count);
    }
}
