using Haul.Transfer;
using Xunit;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public class BufferPoolTests
{
    [Fact]
    public void ReturnedArrays_AreReusedBySize_AndWhatIsKeptNeverExceedsTheByteCap()
    {
        var pool = new BoundedBytePool(maxArrayLength: 4 << 20, retainBytes: 10 << 20);
        var a = pool.Rent(1_500_000);
        Assert.Equal(2 << 20, a.Length);
        pool.Return(a);
        Assert.Same(a, pool.Rent(1_100_000));
        Assert.Equal(0, pool.RetainedBytes);

        // A long send's mix of sizes: every size at its own peak would keep 4 × 4 + 8 × 2 + 16 × 1 = 48 MiB.
        var loans = new List<byte[]>();
        foreach (var (size, count) in new[] { (4 << 20, 4), (2 << 20, 8), (1 << 20, 16) })
        {
            for (int i = 0; i < count; i++)
            {
                loans.Add(pool.Rent(size));
            }

            foreach (var l in loans)
            {
                pool.Return(l);
            }

            loans.Clear();
            Assert.True(pool.RetainedBytes <= 10 << 20, $"{pool.RetainedBytes} bytes kept");
        }

        Assert.Equal(10 << 20, pool.RetainedBytes);

        // With its own size empty, a request takes a kept array up to two sizes larger, not a new one.
        var taken = new List<byte[]>();
        while (pool.RetainedBytes > 0)
        {
            taken.Add(pool.Rent(1 << 20));
        }

        Assert.Equal(3, taken.Count);
        Assert.All(taken, t => Assert.True(t.Length > 1 << 20));
        taken.ForEach(t => pool.Return(t));

        var big = pool.Rent(5 << 20);
        Assert.Equal(5 << 20, big.Length);
        pool.Return(big);
        pool.Return(new byte[3000]);
        Assert.Equal(10 << 20, pool.RetainedBytes);
    }
}
