using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Haul.Tests.Support;

/// <summary>Runs the real CLI binary as a separate process, so tests can kill it with SIGKILL.</summary>
internal sealed class HaulProcess : IDisposable
{
    private readonly Process _p;
    private readonly List<string> _out = [];
    private readonly List<string> _err = [];

    private HaulProcess(Process p)
    {
        _p = p;
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_out)
                {
                    _out.Add(e.Data);
                }
            }
        };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_err)
                {
                    _err.Add(e.Data);
                }
            }
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }

    /// <summary>The haul under test: the build's own, or HAUL_TEST_BINARY (test.sh points it at the Native AOT binary for a second pass).</summary>
    public static string Binary => Environment.GetEnvironmentVariable("HAUL_TEST_BINARY") is { Length: > 0 } b ? b : Path.Combine(AppContext.BaseDirectory, "haul");

    public int Pid => _p.Id;

    public static HaulProcess Start(params string[] args) => Start(null, args);

    public static HaulProcess Start(IReadOnlyDictionary<string, string?>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(Binary, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }

        return new HaulProcess(Process.Start(psi)!);
    }

    /// <summary>Runs to completion with extra environment variables (null removes one).</summary>
    public static async Task<(int Code, string Out, string Err)> RunWithEnvAsync(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        using var p = Start(env, args);
        int code = await p.WaitAsync(TimeSpan.FromMinutes(3));
        return (code, p.Stdout, p.Stderr);
    }

    /// <summary>Runs to completion and returns exit code, stdout and stderr.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var p = Start(args);
        int code = await p.WaitAsync(TimeSpan.FromMinutes(3));
        return (code, p.Stdout, p.Stderr);
    }

    public string Stdout
    {
        get
        {
            lock (_out)
            {
                return string.Join('\n', _out);
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_err)
            {
                return string.Join('\n', _err);
            }
        }
    }

    public IReadOnlyList<JsonElement> JsonLines()
    {
        lock (_out)
        {
            return _out.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        }
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _p.WaitForExitAsync(cts.Token);
        _p.WaitForExit();
        return _p.ExitCode;
    }

    public void Kill9()
    {
        Process.Start("kill", ["-9", _p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        _p.WaitForExit();
    }

    public bool HasExited => _p.HasExited;

    public void Dispose()
    {
        if (!_p.HasExited)
        {
            _p.Kill(entireProcessTree: true);

            // Kill only sends the signal: wait until the process is gone and its ports are free, or the
            // next node a test starts on the same port (a config file's listen address) may find it
            // taken (seen once in CI, with the faster-starting AOT binary).
            _p.WaitForExit(10_000);
        }

        _p.Dispose();
    }

    private static readonly HashSet<int> HandedOut = [];

    public static int FreePort()
    {
        // Free on both TCP and UDP, since a node listens on the same port number for both. Picked below
        // the kernel's ephemeral range when there is room: a port found free there and released (the
        // node binds it a moment later) could be taken meanwhile by any outgoing connection, a
        // browser's or another test's (CI saw "cannot listen on 127.0.0.1:36001"). Never the same
        // port twice in one run, so two tests checking at once cannot both get it.
        int lo = 0, hi = 0;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (range.Length == 2 && int.TryParse(range[0], System.Globalization.CultureInfo.InvariantCulture, out int ephemeralLow) && ephemeralLow > 12_000)
            {
                (lo, hi) = (10_000, ephemeralLow);
            }
        }
        catch (IOException)
        {
        }

        for (int i = 0; i < 200; i++)
        {
            int port;
            if (hi > lo)
            {
                port = Random.Shared.Next(lo, hi);
            }
            else
            {
                using var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            lock (HandedOut)
            {
                if (!HandedOut.Add(port))
                {
                    continue;
                }
            }

            try
            {
                using var t = new TcpListener(IPAddress.Loopback, port);
                t.Start();
                using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("no free port");
    }
}
