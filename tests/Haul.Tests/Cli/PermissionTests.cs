using System.Diagnostics;
using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Cli;

/// <summary>
/// Permission errors need a process that is not root (root bypasses file permissions), so these
/// run the real binary as 'nobody' through setpriv. Skipped when not root.
/// </summary>
[Collection("nodes")]
public sealed class PermissionTests
{
    private static bool CanDropPrivileges => Environment.UserName == "root" && File.Exists("/usr/bin/setpriv");

    private static Process StartAsNobody(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", HaulProcess.Binary, .. args])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["HOME"] = "/tmp";
        return Process.Start(psi)!;
    }

    private static async Task<(int Code, string Err)> AsNobody(params string[] args)
    {
        using var p = StartAsNobody(args);
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, err);
    }

    [Fact]
    public async Task UnreadableSource_IsPermissionDenied()
    {
        if (!CanDropPrivileges)
        {
            return;
        }

        using var tmp = new TempDir();
        File.SetUnixFileMode(tmp.Path, (UnixFileMode)0x1FF);
        string home = tmp.Sub("home");
        Assert.Equal(0, (await AsNobody("--home", home, "init", "--name", "edge")).Code);
        Assert.Equal(0, (await AsNobody("--home", home, "peer", "add", Haul.Security.NodeId.FromHash(new byte[32]).ToString(), "127.0.0.1:9", "--name", "hub")).Code);
        string secret = tmp.Sub("secret");
        Directory.CreateDirectory(secret);
        File.WriteAllText(Path.Combine(secret, "k.bin"), "x");
        File.SetUnixFileMode(Path.Combine(secret, "k.bin"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var (code, err) = await AsNobody("--home", home, "send", secret, "hub");

        Assert.Equal((int)ErrorCode.PermissionDenied, code);
        var errors = err.Trim().Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.StartsWith("error: permission denied reading", errors[0], StringComparison.Ordinal);
        Assert.EndsWith(errors[0], err.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnwritableInbox_IsReportedToTheSenderAsPermissionDenied()
    {
        if (!CanDropPrivileges)
        {
            return;
        }

        using var tmp = new TempDir();
        File.SetUnixFileMode(tmp.Path, (UnixFileMode)0x1FF);
        string homeA = tmp.Sub("a"), homeB = tmp.Sub("b"), inbox = tmp.Sub("root-owned-inbox");
        Directory.CreateDirectory(inbox);
        File.SetUnixFileMode(inbox, (UnixFileMode)0x1ED); // 0755, owned by root
        Assert.Equal(0, (await AsNobody("--home", homeB, "init", "--name", "lab-b")).Code);
        int port = HaulProcess.FreePort();
        using var a = HaulNode.Init(homeA, "lab-a");
        string idB = File.Exists(Path.Combine(homeB, "node.crt")) ? ReadId(homeB) : throw new InvalidOperationException();
        a.Store.AddPeer(Haul.Security.NodeId.Parse(idB), "lab-b", $"127.0.0.1:{port}");
        Assert.Equal(0, (await AsNobody("--home", homeB, "peer", "add", a.Identity.Id.ToString(), "--name", "lab-a")).Code);

        using var serve = StartAsNobody("--home", homeB, "serve", "--listen", $"127.0.0.1:{port}", "--inbox", inbox);
        try
        {
            string line;
            do
            {
                line = (await serve.StandardError.ReadLineAsync())!;
            }
            while (line is not null && !line.Contains("serving on", StringComparison.Ordinal));

            Directory.CreateDirectory(tmp.Sub("src/ds"));
            File.WriteAllText(tmp.Sub("src/ds/f.txt"), "data");
            var ex = await Assert.ThrowsAsync<HaulException>(() => a.SendAsync(tmp.Sub("src/ds"), "lab-b"));
            Assert.Equal(ErrorCode.PermissionDenied, ex.Code);
        }
        finally
        {
            serve.Kill();
        }
    }

    private static string ReadId(string home)
    {
        var pem = File.ReadAllText(Path.Combine(home, "node.crt"));
        using var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem);
        return Haul.Security.NodeId.FromCertificate(cert.RawData).ToString();
    }
}
