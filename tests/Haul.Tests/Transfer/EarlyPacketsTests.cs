using System.Net;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

[Trait("Category", "Unit")]
public sealed class EarlyPacketsTests
{
    private static readonly SocketAddress From = new IPEndPoint(IPAddress.Loopback, 4433).Serialize();

    [Fact]
    public void KeptPackets_AreCopies_HandedOverOnceInArrivalOrder()
    {
        var early = new EarlyPackets();
        var buf = new byte[] { 1, 2, 3 };
        early.Keep(buf, From, counted: false);
        buf[0] = 9; // the receive buffer is reused for the next datagram
        early.Keep(buf, From, counted: true);
        Assert.True(early.Pending);

        var kept = early.TakeAll()!;
        Assert.Equal([(byte)1, 2, 3], kept[0].Packet);
        Assert.Equal([(byte)9, 2, 3], kept[1].Packet);
        Assert.Equal([false, true], kept.Select(k => k.Counted));
        Assert.Equal(From, kept[0].From);
        Assert.Equal(2, early.Placed);

        Assert.Null(early.TakeAll());
        Assert.False(early.HasRoomFor(1)); // keeping has ended
        early.Keep(buf, From, counted: false);
        Assert.False(early.Pending);
    }

    [Fact]
    public void KeepingStops_AtEitherBound()
    {
        var early = new EarlyPackets();
        for (int i = 0; i < EarlyPackets.MaxPackets + 10; i++)
        {
            early.Keep(new byte[10], From, counted: false);
        }

        Assert.Equal(EarlyPackets.MaxPackets, early.TakeAll()!.Count);

        var big = new EarlyPackets();
        var packet = new byte[64 * 1024];
        for (int i = 0; i < 300; i++)
        {
            big.Keep(packet, From, counted: false);
        }

        Assert.Equal(EarlyPackets.MaxBytes / packet.Length, big.TakeAll()!.Count);
    }
}
