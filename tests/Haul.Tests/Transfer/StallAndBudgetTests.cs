using Haul.Security;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class StallAndBudgetTests
{
    private static NodeId Id(byte b)
    {
        var key = new byte[32];
        key[0] = b;
        return NodeId.FromHash(key);
    }

    [Fact]
    public void TheBudget_HoldsEachPeerAndTheNodeToTheirLimits_AndADisposedAccountGivesEverythingBack()
    {
        var budget = new MemoryBudget(nodeLimit: 100, peerLimit: 60);
        using var a1 = budget.Open(Id(1));
        var a2 = budget.Open(Id(1));
        using var b = budget.Open(Id(2));

        Assert.True(a1.TryTake(40));
        Assert.False(a2.TryTake(30));           // peer 1 would hold 70 > 60
        Assert.True(a2.TryTake(20));
        Assert.True(b.TryTake(40));
        Assert.False(b.TryTake(1));             // the node would hold 101 > 100
        Assert.False(b.TryTake(10, ownLimit: 45)); // the account's own limit
        Assert.Equal(60, budget.HeldBy(Id(1)));
        Assert.Equal(100, budget.Held);

        a2.Dispose();
        Assert.Equal(40, budget.HeldBy(Id(1)));
        a2.Return(20);                          // after disposal: already given back, not twice
        Assert.Equal(80, budget.Held);
        Assert.False(a2.TryTake(1));

        a1.Return(100);                         // more than it holds: only what it holds
        Assert.Equal(0, budget.HeldBy(Id(1)));
        Assert.Equal(40, budget.Held);
    }

    [Fact]
    public void TheWatch_FiresOnlyWhenNothingMovesForTheLimit_AndNotWhilePaused()
    {
        long counter = 0, now = 0;
        long second = System.Diagnostics.Stopwatch.Frequency;
        int fired = 0;
        using var watch = new StallWatch(TimeSpan.FromSeconds(4), () => fired++, () => counter, () => now);
        void Advance(double seconds)
        {
            now += (long)(seconds * second);
            watch.Tick();
        }

        // Moving: the probe's counter changes every second for a minute.
        for (int i = 0; i < 60; i++)
        {
            counter++;
            Advance(1);
        }

        Assert.Equal(0, fired);

        // Paused (the session's own work) for a minute: not a stall, and the limit starts again after it.
        using (watch.Pause())
        {
            for (int i = 0; i < 60; i++)
            {
                Advance(1);
            }
        }

        Advance(3.5);
        Assert.Equal(0, fired);

        // Moved() by hand counts as well.
        watch.Moved();
        Advance(3.5);
        Assert.False(watch.Fired);

        // Then silence past the limit: it fires, once.
        Advance(1);
        Assert.Equal(1, fired);
        Assert.True(watch.Fired);
        Advance(10);
        Assert.Equal(1, fired);
    }

    [Fact]
    public async Task AWatchWithoutALimit_NeverFires()
    {
        int fired = 0;
        using var watch = new StallWatch(TimeSpan.Zero, () => fired++);
        await Task.Delay(300);
        Assert.Equal(0, fired);
    }
}
