using Haul.Node;
using Haul.Tests.Support;

namespace Haul.Tests.Cli;

/// <summary>The node's default rate policy: stored in its database, used by 'send' unless flags override it.</summary>
[Collection("nodes")]
public sealed class PolicyTests
{
    [Fact]
    public async Task NodePolicy_AppliesToSends_AndFlagsOverrideIt()
    {
        using var tmp = new TempDir();
        string homeA = tmp.Sub("a"), homeB = tmp.Sub("b");
        int port = HaulProcess.FreePort();
        using (var a = HaulNode.Init(homeA, "lab-a"))
        using (var b = HaulNode.Init(homeB, "lab-b"))
        {
            a.Store.AddPeer(b.Identity.Id, "lab-b", $"127.0.0.1:{port}");
            b.Store.AddPeer(a.Identity.Id, "lab-a", null);
        }

        string src = tmp.Sub("src");
        Trees.WriteRandom(Path.Combine(src, "w.bin"), 3_000_000, 5);
        var set = await HaulProcess.RunAsync("--home", homeA, "policy", "--mode", "background", "--max-rate", "80Mbit");
        Assert.Equal(0, set.Code);
        Assert.Contains("mode background, max rate", set.Out, StringComparison.Ordinal);

        using var serve = HaulProcess.Start("--home", homeB, "serve", "--listen", $"127.0.0.1:{port}");
        for (int i = 0; i < 200 && !serve.Stderr.Contains("serving on", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        var byNode = await HaulProcess.RunAsync("--home", homeA, "send", src, "lab-b", "--json");
        Assert.Equal(0, byNode.Code);
        Assert.Contains("\"rateMode\":\"background\"", byNode.Out, StringComparison.Ordinal);
        Assert.Contains("\"maxRateBytesPerSec\":10000000", byNode.Out, StringComparison.Ordinal);

        var byFlag = await HaulProcess.RunAsync("--home", homeA, "send", src, "lab-b", "--json", "--mode", "fair");
        Assert.Equal(0, byFlag.Code);
        Assert.Contains("\"rateMode\":\"fair\"", byFlag.Out, StringComparison.Ordinal);
        Assert.Contains("\"maxRateBytesPerSec\":10000000", byFlag.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await HaulProcess.RunAsync("--home", homeA, "policy", "--reset")).Code);
        using var reopened = HaulNode.Open(homeA);
        Assert.Equal(Haul.Transfer.Congestion.RateMode.Fair, reopened.DefaultRatePolicy.Mode);
    }

    [Fact]
    public async Task BadPolicy_IsRefused_AndNothingChanges()
    {
        using var tmp = new TempDir();
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "init", "--name", "a")).Code);
        Assert.Equal(0, (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "policy", "--max-rate", "1G")).Code);
        var bad = await HaulProcess.RunAsync("--home", tmp.Sub("a"), "policy", "--mode", "fixed", "--min-rate", "nope");
        Assert.Equal(2, bad.Code);
        Assert.Single(bad.Err.Trim().Split('\n'));
        Assert.Contains("'nope' is not a rate", bad.Err, StringComparison.Ordinal);
        Assert.Contains("mode fair, max rate 1.0 GB/s", (await HaulProcess.RunAsync("--home", tmp.Sub("a"), "policy")).Out, StringComparison.Ordinal);
    }
}
