using Haul.Transport;

namespace Haul.Tests.Transport;

[Trait("Category", "Unit")]
public sealed class ReplayWindowTests
{
    [Fact]
    public void AcceptsEachNumberOnce_InAnyOrderWithinTheWindow()
    {
        var w = new ReplayWindow();
        var rng = new Random(4);
        var nums = Enumerable.Range(0, 50_000).Select(i => (ulong)i).OrderBy(_ => rng.Next()).ToList();
        // Keep reordering within the window: sort in blocks.
        nums = nums.Select((n, i) => (n, key: (i / 1000 * 1000) + (int)(n % 1000))).OrderBy(t => t.n / 1000).Select(t => t.n).ToList();
        foreach (var n in nums)
        {
            Assert.True(w.TryAccept(n));
        }

        foreach (var n in nums.Take(100))
        {
            Assert.False(w.TryAccept(n));
        }
    }

    [Fact]
    public void RejectsNumbersOlderThanTheWindow()
    {
        var w = new ReplayWindow();
        Assert.True(w.TryAccept(10));
        Assert.True(w.TryAccept(10 + ReplayWindow.Size + 5));
        Assert.False(w.TryAccept(10));
        Assert.True(w.TryAccept(10 + ReplayWindow.Size + 4));
        Assert.True(w.TryAccept(100_000_000));
        Assert.False(w.TryAccept(100_000_000));
    }

    [Fact]
    public void ClearsStaleBitsWhenSliding()
    {
        var w = new ReplayWindow();
        for (ulong i = 0; i < 200; i++)
        {
            Assert.True(w.TryAccept(i));
        }

        // After sliding by exactly the window size, the slots of 0..199 are reused by new numbers.
        for (ulong i = ReplayWindow.Size; i < ReplayWindow.Size + 200; i++)
        {
            Assert.True(w.TryAccept(i));
        }
    }

    [Fact]
    public void RejectsAReplayAtTheOldestEdge_AfterTheHighestEntersTheSameWord()
    {
        // 6 and Size+5 share a bitmap word when the bitmap is exactly Size bits: moving the highest
        // number into that word cleared it while 6 was still inside the window (Size+5 - 6 < Size).
        var w = new ReplayWindow();
        Assert.True(w.TryAccept(6));
        Assert.True(w.TryAccept(ReplayWindow.Size + 5));
        Assert.False(w.TryAccept(6));
        Assert.True(w.TryAccept(7));
        Assert.False(w.TryAccept(7));
        Assert.False(w.TryAccept(5));
    }

    [Fact]
    public void AgreesWithANaiveModel_OverRandomReorderedAndReplayedSequences()
    {
        const int Size = ReplayWindow.Size;
        var rng = new Random(6479);
        for (int run = 0; run < 300; run++)
        {
            var w = new ReplayWindow();
            var model = new NaiveWindow(Size);
            var recent = new List<ulong>();
            ulong top = (ulong)rng.Next(0, 3) switch { 0 => 0, 1 => (ulong)rng.Next(), _ => ulong.MaxValue - (4UL * Size) };
            for (int step = 0; step < 2000; step++)
            {
                ulong pn;
                int pick = rng.Next(100);
                if (pick < 40)
                {
                    // Forward, by small steps, by about a word, or by about the whole window.
                    ulong jump = (ulong)(rng.Next(4) switch { 0 => rng.Next(1, 3), 1 => rng.Next(60, 70), 2 => rng.Next(Size - 70, Size + 70), _ => rng.Next(1, 2 * Size) });
                    top = top > ulong.MaxValue - jump ? top : top + jump;
                    pn = top;
                }
                else if (pick < 70)
                {
                    // Reordered: behind the highest, near the window's edges or anywhere inside it.
                    ulong back = (ulong)(rng.Next(3) switch { 0 => rng.Next(Size - 130, Size + 130), 1 => rng.Next(0, 130), _ => rng.Next(0, Size + 1000) });
                    pn = top >= back ? top - back : 0;
                }
                else if (recent.Count > 0)
                {
                    // Replayed: a number seen before.
                    pn = recent[rng.Next(recent.Count)];
                }
                else
                {
                    pn = top;
                }

                bool expected = model.TryAccept(pn);
                Assert.True(expected == w.TryAccept(pn), $"run {run} step {step}: {pn} (highest {model.Highest}) should be {(expected ? "accepted" : "rejected")}");
                if (expected)
                {
                    recent.Add(pn);
                    if (recent.Count > 4096)
                    {
                        recent.RemoveAt(rng.Next(recent.Count));
                    }
                }
            }
        }
    }

    /// <summary>The rule itself: each number once, and nothing Size or more behind the highest.</summary>
    private sealed class NaiveWindow(int size)
    {
        private readonly HashSet<ulong> _seen = [];
        private bool _any;

        public ulong Highest { get; private set; }

        public bool TryAccept(ulong pn)
        {
            if (_any && pn < Highest && Highest - pn >= (ulong)size)
            {
                return false;
            }

            if (!_seen.Add(pn))
            {
                return false;
            }

            Highest = _any ? Math.Max(Highest, pn) : pn;
            _any = true;
            return true;
        }
    }
}
