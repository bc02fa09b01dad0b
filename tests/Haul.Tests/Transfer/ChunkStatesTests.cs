using Haul.Content;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class ChunkStatesTests
{
    [Fact]
    public void ThePlan_ListsTheNeededChunksAsRuns_WithTheirBytes()
    {
        var chunks = Enumerable.Range(0, 10).Select(i => new ChunkInfo(default, 100 + i)).ToArray();
        var states = new ChunkStates(10);
        foreach (int c in new[] { 0, 3, 4, 8 })
        {
            states.Set(c, ChunkState.NotNeeded);
        }

        var (runs, bytes) = states.CountNeeded(chunks);

        Assert.Equal([(1, 2), (5, 3), (9, 1)], runs);
        Assert.Equal(101 + 102 + 105 + 106 + 107 + 109, bytes);
        Assert.Equal(6, states.Remaining);
        Assert.True(states.Any(ChunkState.Needed));
    }

    [Fact]
    public void OnlyOneThread_TakesAChunk_AndTheLastWriteIsReportedOnce()
    {
        var states = new ChunkStates(2000);
        states.CountNeeded(new ChunkInfo[2000]);
        int taken = 0;
        Parallel.For(0, 8, _ =>
        {
            for (int c = 0; c < 2000; c++)
            {
                // UDP (Needed → Assembling) and TCP (Needed → Complete) race for each chunk.
                if (states.TryMove(c, ChunkState.Needed, c % 2 == 0 ? ChunkState.Assembling : ChunkState.Complete))
                {
                    Interlocked.Increment(ref taken);
                }
            }
        });

        Assert.Equal(2000, taken);
        Assert.False(states.TryMove(0, ChunkState.Needed, ChunkState.Assembling));
        Assert.True(states.TryMove(0, ChunkState.Assembling, ChunkState.Complete));
        Assert.Equal(ChunkState.Complete, states[0]);

        int last = 0;
        Parallel.For(0, 2000, _ => Interlocked.Add(ref last, states.Written() ? 1 : 0));
        Assert.Equal(1, last);
        Assert.Equal(0, states.Remaining);
    }
}
