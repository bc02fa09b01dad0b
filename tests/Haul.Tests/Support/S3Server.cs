using System.Diagnostics;

namespace Haul.Tests.Support;

/// <summary>
/// A real S3-compatible server for the tests: s3rver (npm) on a free port over a temporary folder, with
/// one bucket created. test.sh installs it into .build/tools; if it is missing, it is installed here.
/// s3rver does not check signatures, so credential handling is tested separately.
/// </summary>
public sealed class S3Server : IDisposable
{
    private readonly Process _p;
    private readonly TempDir _dir = new();

    public S3Server()
    {
        string tools = Path.Combine(RepoRoot, ".build", "tools");
        string bin = Path.Combine(tools, "node_modules", ".bin", "s3rver");
        if (!File.Exists(bin))
        {
            Run("npm", "install", "--prefix", tools, "--no-audit", "--no-fund", "--silent", "s3rver@3.7.1");
        }

        Port = HaulProcess.FreePort();
        var psi = new ProcessStartInfo(bin, ["--directory", _dir.Path, "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configure-bucket", Bucket, "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // s3rver's continuation tokens use a cipher OpenSSL 3 only offers through the legacy provider.
        psi.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        _p = Process.Start(psi)!;
        for (int i = 0; i < 100; i++)
        {
            // Listening is not enough: s3rver creates the configured bucket after it binds, and a client
            // in this process (not a child started later) can ask before that. Ready when the bucket lists.
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                if (http.GetAsync($"http://127.0.0.1:{Port}/{Bucket}?max-keys=1").GetAwaiter().GetResult().IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            Thread.Sleep(100);
        }

        throw new InvalidOperationException("s3rver did not start: " + _p.StandardError.ReadToEnd());
    }

    public const string Bucket = "ml-bucket";

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Environment for haul and for rclone/aws against this server.</summary>
    public IReadOnlyDictionary<string, string?> Env => new Dictionary<string, string?>
    {
        ["AWS_ACCESS_KEY_ID"] = "S3RVER",
        ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
        ["AWS_CA_BUNDLE"] = null,
    };

    public string DataDir => _dir.Path;

    public static string RepoRoot
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d is not null && !File.Exists(Path.Combine(d.FullName, "Directory.Build.props")))
            {
                d = d.Parent;
            }

            return d?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }

    public static (int Code, string Out, string Err) Run(string file, params string[] args) => Run(null, file, args);

    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string?>? env, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, so.Result, se.Result);
    }

    public void Dispose()
    {
        try
        {
            _p.Kill(entireProcessTree: true);
            _p.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }

        _p.Dispose();
        _dir.Dispose();
    }
}
