using System.Net;
using System.Net.Sockets;
using Haul.Protocol;

namespace Haul.Tests.Protocol;

public sealed class ControlChannelTests
{
    [Fact]
    public async Task DeferredFirstFrame_IsReadAndCheckedBeforeTheAnswer()
    {
        var wire = await Frames((FrameType.Hello, [1, 2]), (FrameType.Accept, [3]));
        await using var ch = new ControlChannel(new MemoryStream(wire));
        byte[]? hello = null;
        ch.DeferFirst(FrameType.Hello, f => hello = f.Payload, _ => null);

        var answer = await ch.ExpectAsync(FrameType.Accept);

        Assert.Equal(new byte[] { 1, 2 }, hello);
        Assert.Equal(new byte[] { 3 }, answer.Payload);
    }

    [Fact]
    public async Task DeferredFirstFrame_OfTheWrongType_IsAProtocolError()
    {
        var wire = await Frames((FrameType.Accept, [3]));
        await using var ch = new ControlChannel(new MemoryStream(wire));
        ch.DeferFirst(FrameType.Hello, _ => { }, _ => null);

        var ex = await Assert.ThrowsAsync<HaulException>(async () => await ch.ReceiveAsync());

        Assert.Equal(ErrorCode.ProtocolError, ex.Code);
    }

    [Fact]
    public async Task ConnectionClosedBeforeTheDeferredFrame_IsMappedByTheCaller()
    {
        await using var ch = new ControlChannel(new MemoryStream([]));
        ch.DeferFirst(FrameType.Hello, _ => { }, ex => ex is HaulException { Code: ErrorCode.PeerWentAway } ? new HaulException(ErrorCode.NotTrusted, "refused", null) : null);

        var ex = await Assert.ThrowsAsync<HaulException>(async () => await ch.ReceiveAsync());

        Assert.Equal(ErrorCode.NotTrusted, ex.Code);
    }

    [Fact]
    public async Task TcpRtt_IsReadFromTheKernel()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        await using var ch = new ControlChannel(client.GetStream(), client.Client);
        await ch.SendAsync(FrameType.Bye, ReadOnlyMemory<byte>.Empty);
        await server.GetStream().ReadExactlyAsync(new byte[Frame.HeaderSize]);

        double rtt = ch.TcpRttSeconds();

        Assert.InRange(rtt, 1e-7, 0.5);
        Assert.True(double.IsNaN(new ControlChannel(new MemoryStream()).TcpRttSeconds()));
    }

    private static async Task<byte[]> Frames(params (FrameType Type, byte[] Payload)[] frames)
    {
        var ms = new MemoryStream();
        var w = new ControlChannel(ms);
        foreach (var (t, p) in frames)
        {
            await w.SendAsync(t, p);
        }

        return ms.ToArray();
    }
}
