using Haul.Node;
using Haul.Operations;
using Haul.Sync;

namespace Haul.Tests.Node;

/// <summary>The one line a run between ends leaves (the CLI's last line, a job's result, an API transfer's summary).</summary>
public sealed class SyncOutcomeTests
{
    [Fact]
    [Trait("Category", "Unit")]
    public void ADryRunsSummary_SaysWhatItWouldDo_NotZeroCopied()
    {
        // A dry-run job or API call sees only this line; it said "0 copied (0 B), 0 deleted" whatever was planned.
        var stats = new SyncStats { PlannedFiles = 4, PlannedBytes = 600_000, PlannedDeletes = 2, PlannedTouches = 1, Same = 3 };
        string sync = new SyncOutcome(new SyncRequest(SyncMode.Sync, "/a", "/b") { DryRun = true }, stats, "/a", "/b").Summary;
        Assert.StartsWith("sync (dry run): would copy 4 (600.0 KB), would set times on 1, would delete 2, 3 unchanged", sync, StringComparison.Ordinal);

        string copy = new SyncOutcome(new SyncRequest(SyncMode.Copy, "/a", "/b") { DryRun = true }, stats, "/a", "/b").Summary;
        Assert.StartsWith("copy (dry run): would copy 4 (600.0 KB), would set times on 1, 3 unchanged", copy, StringComparison.Ordinal);

        // A real run still counts what it did.
        string real = new SyncOutcome(new SyncRequest(SyncMode.Sync, "/a", "/b"), new SyncStats { Copied = 1, CopiedBytes = 10 }, "/a", "/b").Summary;
        Assert.StartsWith("sync: 1 copied (10 B)", real, StringComparison.Ordinal);
    }
}
