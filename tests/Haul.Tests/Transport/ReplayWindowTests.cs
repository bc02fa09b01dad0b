using Haul.Transport;

namespace Haul.Tests.Transport;

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
}
