using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Node;

/// <summary>One serving node per home: a second 'haul serve' on the same home is refused, naming the first.</summary>
[Collection("nodes")]
public sealed class ServeLockTests
{
    [Fact]
    public async Task ASecondServe_OnTheSameHome_IsRefused_NamingTheFirst_WhichKeepsServing()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", home, "init", "--name", "solo")).Code);
        int port = HaulProcess.FreePort();
        using var first = HaulProcess.Start("--home", home, "serve", "--listen", $"127.0.0.1:{port}");
        for (int i = 0; i < 200 && !first.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        for (int i = 0; i < 100 && !File.ReadAllText(Path.Combine(home, "serve.info")).Contains("API", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        var (code, _, err) = await HaulProcess.RunAsync("--home", home, "serve", "--listen", $"127.0.0.1:{HaulProcess.FreePort()}");
        Assert.Equal(28, code);
        string line = err.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.Contains("already serving", line, StringComparison.Ordinal);
        Assert.Contains($"pid {first.Pid}", line, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);

        // The first node still answers where it said it would.
        var status = await HaulProcess.RunAsync("--home", home, "status");
        Assert.Equal(0, status.Code);
    }

    [Fact]
    public async Task AHost_HoldsItsHome_UntilDisposed()
    {
        using var tmp = new TempDir();
        string home = tmp.Sub("home");
        HaulNode.Init(home, "solo").Dispose();
        var options = new ServeOptions { Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), NoUdp = true };
        var host = NodeHost.Start(home, options, new CapturingLoggerProvider());
        var ex = Assert.Throws<HaulException>(() => NodeHost.Start(home, options, new CapturingLoggerProvider()));
        Assert.Equal(ErrorCode.NodeAlreadyRunning, ex.Code);
        await host.DisposeAsync();
        await using var again = NodeHost.Start(home, options, new CapturingLoggerProvider());
    }
}
