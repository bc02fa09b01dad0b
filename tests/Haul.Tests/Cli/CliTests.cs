using Haul.Tests.Support;

namespace Haul.Tests.Cli;

/// <summary>The real binary: commands, exit codes, one-line errors, machine-readable output.</summary>
[Collection("nodes")]
public sealed class CliTests
{
    [Fact]
    public async Task Init_Id_PeerAddListRemove_Work()
    {
        using var tmp = new TempDir();
        var (code, id, _) = await HaulProcess.RunAsync("--home", tmp.Sub("a"), "init", "--name", "lab-a");
        Assert.Equal(0, code);
        Assert.Matches("^[A-Z2-7]{7}(-[A-Z2-7]{7}){7}$", id.Trim());
        Assert.Equal(id.Trim(), (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "id")).Out.Trim());
        foreach (var f in new[] { "node.key", "node.crt" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(tmp.Sub("a"), f)));
        }

        var (_, otherId, _) = await HaulProcess.RunAsync("--home", tmp.Sub("b"), "init", "--name", "lab-b");
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "peer", "add", otherId.Trim(), "127.0.0.1:7400", "--name", "lab-b")).Code);
        var list = await HaulProcess.RunAsync("--home", tmp.Sub("a"), "peer", "list", "--json");
        Assert.Contains("\"name\":\"lab-b\"", list.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "peer", "remove", "lab-b")).Code);
        Assert.DoesNotContain("lab-b", (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "peer", "list")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HaulHomeEnvironmentVariable_IsUsed()
    {
        using var tmp = new TempDir();
        var psi = new System.Diagnostics.ProcessStartInfo(HaulProcess.Binary, ["init", "--name", "env-node"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["HAUL_HOME"] = tmp.Sub("env-home");
        using var p = System.Diagnostics.Process.Start(psi)!;
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        Assert.True(File.Exists(Path.Combine(tmp.Sub("env-home"), "node.key")));
    }

    [Theory]
    [InlineData(3, "id")]
    [InlineData(2, "send")]
    [InlineData(2, "frobnicate")]
    public async Task Errors_AreOneLineWithADistinctExitCode(int expected, params string[] args)
    {
        using var tmp = new TempDir();
        var (code, _, err) = await HaulProcess.RunAsync(["--home", tmp.Sub("none"), .. args]);
        Assert.Equal(expected, code);
        Assert.StartsWith("error:", err.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInput_MapsToDistinctCodes_AndJsonErrors()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("a");
        await HaulProcess.RunAsync("--home", home, "init", "--name", "lab-a");
        Directory.CreateDirectory(tmp.Sub("src"));

        var unknown = await HaulProcess.RunAsync("--home", home, "send", tmp.Sub("src"), "nobody", "--json");
        Assert.Equal((int)ErrorCode.UnknownPeer, unknown.Code);
        Assert.Contains("\"type\":\"error\"", unknown.Out, StringComparison.Ordinal);
        Assert.Single(unknown.Err.Trim().Split('\n'));

        Assert.Equal((int)ErrorCode.AlreadyInitialized, (await HaulProcess.RunAsync("--home", home, "init", "--name", "x")).Code);
        Assert.Equal((int)ErrorCode.BadToken, (await HaulProcess.RunAsync("--home", home, "join", "haul1-garbage")).Code);
        Assert.Equal((int)ErrorCode.Usage, (await HaulProcess.RunAsync("--home", home, "peer", "add", "not-an-id", "--name", "x")).Code);
        Assert.Equal((int)ErrorCode.Usage, (await HaulProcess.RunAsync("--home", home, "send", tmp.Sub("src"), "x", "--max-rate", "fast")).Code);

        await HaulProcess.RunAsync("--home", home, "peer", "add", ValidId(), "127.0.0.1:1", "--name", "ghost");
        Assert.Equal((int)ErrorCode.PathNotFound, (await HaulProcess.RunAsync("--home", home, "send", tmp.Sub("missing"), "ghost")).Code);
        Assert.Equal((int)ErrorCode.PeerUnreachable, (await HaulProcess.RunAsync("--home", home, "send", tmp.Sub("src"), "ghost")).Code);
    }

    [Fact]
    public async Task ServeInviteJoinSend_EndToEndThroughTheCli()
    {
        using var tmp = new TempDir();
        string a = tmp.Sub("a"), b = tmp.Sub("b");
        await HaulProcess.RunAsync("--home", a, "init", "--name", "lab-a");
        await HaulProcess.RunAsync("--home", b, "init", "--name", "lab-b");
        int port = HaulProcess.FreePort();
        using var serve = HaulProcess.Start("--home", b, "serve", "--listen", $"127.0.0.1:{port}");
        for (int i = 0; i < 200 && !serve.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        var invite = await HaulProcess.RunAsync("--home", b, "invite");
        Assert.Equal(0, invite.Code);
        var join = await HaulProcess.RunAsync("--home", a, "join", invite.Out.Trim());
        Assert.Equal(0, join.Code);
        Assert.Contains("paired with lab-b", join.Out, StringComparison.Ordinal);

        string src = Trees.Mixed(tmp.Sub("src"), files: 12);
        var send = await HaulProcess.RunAsync("--home", a, "send", src, "lab-b");
        Assert.Equal(0, send.Code);
        Assert.Contains("receipt:", send.Out, StringComparison.Ordinal);
        Assert.Contains("signature verified", send.Out, StringComparison.Ordinal);
        Trees.AssertSame(src, Path.Combine(b, "inbox", "lab-a", "dataset"));
        Assert.Contains("lab-b", (await HaulProcess.RunAsync("--home", a, "receipts")).Out, StringComparison.Ordinal);
    }

    private static string ValidId() => Haul.Security.NodeId.FromHash(new byte[32]).ToString();
}
