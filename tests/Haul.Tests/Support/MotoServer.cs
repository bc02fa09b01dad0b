using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;

namespace Haul.Tests.Support;

/// <summary>
/// moto 5.2.1's moto_server (Python) on a free port: unlike s3rver it verifies SigV4 once authentication
/// is on. Set up while it is off: an IAM user with an access key and an allow-all policy, a role assumed
/// through STS for a session key and token, and one bucket; then authentication is switched on
/// (POST /moto-api/reset-auth with 0: every later request is checked). Without signatures
/// (<see cref="WithoutSignatures"/>) it stores keys verbatim, "..", "//" and all, which s3rver
/// cannot hold (its keys are paths on disk), so a test can put a hostile key and have it listed.
/// Found through HAUL_MOTO_SERVER (test.sh sets it), PATH, or pyenv's shim; absent, the tests that need
/// it are reported skipped.
/// </summary>
public sealed class MotoServer : IDisposable
{
    private static readonly string? Found = Locate();
    private readonly Process? _p;
    private readonly HttpClient _http = new();

    public MotoServer()
        : this(signatures: true)
    {
    }

    private MotoServer(bool signatures)
    {
        if (Found is null)
        {
            return;
        }

        Port = HaulProcess.FreePort();
        var psi = new ProcessStartInfo(Found, ["-H", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Remove("INITIAL_NO_AUTH_ACTION_COUNT");
        _p = Process.Start(psi)!;
        _p.OutputDataReceived += (_, _) => { };
        _p.ErrorDataReceived += (_, _) => { };
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
        WaitForPort();

        var user = Iam("CreateUser", ("UserName", "haul"));
        var key = Iam("CreateAccessKey", ("UserName", "haul"));
        AccessKey = Text(key, "AccessKeyId");
        SecretKey = Text(key, "SecretAccessKey");
        _ = user;
        Iam("PutUserPolicy", ("UserName", "haul"), ("PolicyName", "all"), ("PolicyDocument", AllowAll));
        Iam("CreateRole", ("RoleName", "haul-role"), ("AssumeRolePolicyDocument", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"""));
        Iam("PutRolePolicy", ("RoleName", "haul-role"), ("PolicyName", "all"), ("PolicyDocument", AllowAll));
        var session = Post("sts", "2011-06-15", "AssumeRole", ("RoleArn", "arn:aws:iam::123456789012:role/haul-role"), ("RoleSessionName", "haul-test"), ("DurationSeconds", "900"));
        SessionKey = Text(session, "AccessKeyId");
        SessionSecret = Text(session, "SecretAccessKey");
        SessionToken = Text(session, "SessionToken");
        Send("PUT", "/" + Bucket, null, null);
        if (signatures)
        {
            Send("POST", "/moto-api/reset-auth", Encoding.ASCII.GetBytes("0"), "text/plain");
        }
    }

    public const string Bucket = "signed-bucket";

    /// <summary>A server that checks no signature and keeps keys verbatim (for hostile keys put with <see cref="PutRaw"/>).</summary>
    public static MotoServer WithoutSignatures() => new(signatures: false);

    /// <summary>Null where moto_server is installed, else why the tests that need it are skipped.</summary>
    public static string? SkipReason => Found is null ? "moto_server (moto 5.2.1, Python 3.11) is not installed: set HAUL_MOTO_SERVER to its path to run the SigV4 tests" : null;

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public string AccessKey { get; } = string.Empty;

    public string SecretKey { get; } = string.Empty;

    public string SessionKey { get; } = string.Empty;

    public string SessionSecret { get; } = string.Empty;

    public string SessionToken { get; } = string.Empty;

    /// <summary>Environment for haul with the IAM user's key (the ambient AWS_* cleared).</summary>
    public IReadOnlyDictionary<string, string?> Env => Credentials(AccessKey, SecretKey, null);

    public static IReadOnlyDictionary<string, string?> Credentials(string key, string secret, string? token) => new Dictionary<string, string?>
    {
        ["AWS_ACCESS_KEY_ID"] = key,
        ["AWS_SECRET_ACCESS_KEY"] = secret,
        ["AWS_SESSION_TOKEN"] = token,
        ["AWS_PROFILE"] = null,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_CA_BUNDLE"] = null,
    };

    /// <summary>An S3 client signing with the IAM user's key.</summary>
    public Amazon.S3.AmazonS3Client Client() =>
        new(new Amazon.Runtime.BasicAWSCredentials(AccessKey, SecretKey), new Amazon.S3.AmazonS3Config
        {
            ServiceURL = Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>PUTs an object with exactly this key (see <see cref="RawHttp"/>): moto decodes the percent-encoded bytes back into it. Only without signatures.</summary>
    public void PutRaw(string bucket, string key, byte[] body) => Send("PUT", RawHttp.ObjectPath(bucket, key), body, "application/octet-stream");

    public void Dispose()
    {
        _http.Dispose();
        if (_p is null)
        {
            return;
        }

        try
        {
            _p.Kill(entireProcessTree: true);
            _p.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }

        _p.Dispose();
    }

    private const string AllowAll = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}""";

    private static string? Locate()
    {
        if (Environment.GetEnvironmentVariable("HAUL_MOTO_SERVER") is { Length: > 0 } set)
        {
            return File.Exists(set) ? set : null;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/root/.pyenv/shims"))
        {
            string f = Path.Combine(dir, "moto_server");
            if (File.Exists(f))
            {
                return f;
            }
        }

        return null;
    }

    private static string Text(XDocument doc, string name) =>
        doc.Descendants().First(e => e.Name.LocalName == name).Value;

    private XDocument Iam(string action, params (string, string)[] args) => Post("iam", "2010-05-08", action, args);

    /// <summary>A query-API call; the fake credential scope only routes it to the service (no checks yet).</summary>
    private XDocument Post(string service, string version, string action, params (string Name, string Value)[] args)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, Endpoint + "/")
        {
            Content = new FormUrlEncodedContent([new("Action", action), new("Version", version), .. args.Select(a => new KeyValuePair<string, string>(a.Name, a.Value))]),
        };
        req.Headers.TryAddWithoutValidation("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00");
        using var resp = _http.Send(req);
        string body = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!resp.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"moto {service} {action}: {(int)resp.StatusCode} {body}");
        }

        return XDocument.Parse(body);
    }

    private void Send(string method, string path, byte[]? body, string? contentType) => RawHttp.Send(Port, method, path, body, contentType);

    private void WaitForPort()
    {
        for (int i = 0; i < 200; i++)
        {
            try
            {
                using var c = new TcpClient("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        throw new InvalidOperationException("moto_server did not start on port " + Port);
    }
}

/// <summary>A fact that needs moto_server: reported skipped, with the reason, where it is not installed.</summary>
internal sealed class MotoFactAttribute : FactAttribute
{
    public MotoFactAttribute() => Skip = MotoServer.SkipReason;
}
