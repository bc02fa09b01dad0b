using System.Reflection;
using NetArchTest.Rules;

namespace Haul.Tests;

/// <summary>
/// The layer rules (docs/architecture.md, "Layers"), checked on the compiled types: a dependency that
/// breaks one fails here with the types that have it. Lower layers know nothing of higher ones.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ArchitectureTests
{
    private static readonly Assembly Core = typeof(HaulException).Assembly;

    public static TheoryData<string, string> Forbidden => new()
    {
        // The wire formats do not know what a sync is, or how transfers and nodes are run.
        { "Haul.Protocol", "Haul.Sync" },
        { "Haul.Protocol", "Haul.Transfer" },
        { "Haul.Protocol", "Haul.Node" },
        // The transfer engine runs over a control channel it is given; the node owns connections and sessions.
        { "Haul.Transfer", "Haul.Node" },
        { "Haul.Transfer", "Haul.Sync" },
        // The UDP endpoint hands packets to sessions through its interface (IUdpSession), not to the engine's types.
        { "Haul.Transport", "Haul.Transfer" },
        { "Haul.Transport", "Haul.Node" },
        // Content (chunking, manifests, hashes) and state (stores) are below all of the above.
        { "Haul.Content", "Haul.Transfer" },
        { "Haul.Content", "Haul.Node" },
        { "Haul.Content", "Haul.Sync" },
        { "Haul.State", "Haul.Transfer" },
        { "Haul.State", "Haul.Node" },
        { "Haul.State", "Haul.Sync" },
        // Syncing knows ends (ISyncEnd, IBatchedSyncEnd), not nodes: the peer end and the parsing of
        // "peer:folder/path" live with the node, which runs syncs.
        { "Haul.Sync", "Haul.Node" },
        // Requests are data: every surface builds them, the node runs them.
        { "Haul.Operations", "Haul.Node" },
        { "Haul.Operations", "Haul.Jobs" },
        // Jobs are stored requests and a schedule; the node runs them.
        { "Haul.Jobs", "Haul.Node" },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void ALowerLayer_DoesNotDependOnAHigherOne(string layer, string higher)
    {
        var result = Types.InAssembly(Core).That().ResideInNamespace(layer).Should().NotHaveDependencyOnAny(higher).GetResult();
        Assert.True(result.IsSuccessful, $"{layer} depends on {higher} in: {string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? [])}");
    }

    /// <summary>
    /// The compiled check misses constants (the compiler copies their values into the user), so the wire
    /// formats' source is read too: Protocol used Transfer's piece-size bounds unseen.
    /// </summary>
    [Fact]
    public void TheWireFormats_DoNotNameTheTransferEngine_EvenForAConstant()
    {
        string dir = Path.Combine(Support.S3Server.RepoRoot, "src", "Haul", "Protocol");
        var names = new System.Text.RegularExpressions.Regex(@"\busing\s+Haul\.Transfer\b|\b(Haul\.)?Transfer\.[A-Z]");
        var naming = Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => names.IsMatch(File.ReadAllText(f)))
            .Select(Path.GetFileName)
            .ToList();
        Assert.NotEmpty(Directory.EnumerateFiles(dir, "*.cs"));
        Assert.Empty(naming);
    }

    [Fact]
    public void TheSyncRunners_AskForACapability_NotForThePeerEnd()
    {
        var result = Types.InAssembly(Core).That().HaveName("SyncRunner", "BisyncRunner").Should().NotHaveDependencyOnAny("Haul.Sync.PeerEnd", "Haul.Sync.S3End").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }

    [Fact]
    public void TheCore_DoesNotReferenceTheCommandLine()
    {
        Assert.DoesNotContain(Core.GetReferencedAssemblies(), a => a.Name is "haul" or "Haul.Cli");
        var result = Types.InAssembly(Core).Should().NotHaveDependencyOnAny("Haul.Cli").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypes?.Select(t => t.FullName) ?? []));
    }
}
