using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Haul.Content;
using Haul.Protocol;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>
/// Data that leaves with the OFFER, in a session the sender proposes (docs/protocol.md, "Proposed
/// session"): keys from the sender's key half and the receiver half it chose for the receiver, sent to
/// the receiver's control port (where a node serves UDP unless it advertises otherwise), speculative
/// (every chunk in order, at most <see cref="UdpSender.SpeculativeBytes"/> before the need list, no
/// timeout retransmissions). The send adopts it when the receiver takes the proposal, and abandons it
/// otherwise.
/// </summary>
internal sealed class ProposedStart : IDisposable
{
    private readonly CancellationTokenSource _cts;

    // Its own reader of the tree's files: ChunkSource keeps one open handle and is not shared between
    // threads, and an abandoned plane's loader may still be reading when the next plane starts.
    private readonly ChunkSource _source;

    private ProposedStart(Messages.SessionProposal proposal, IPEndPoint target, Socket socket, PacketCodec seal, PacketCodec open, bool gso, UdpSender plane, CancellationTokenSource cts, ChunkSource source)
    {
        _source = source;
        Proposal = proposal;
        Target = target;
        Socket = socket;
        Seal = seal;
        Open = open;
        Gso = gso;
        Plane = plane;
        _cts = cts;
    }

    public Messages.SessionProposal Proposal { get; }

    public IPEndPoint Target { get; }

    public Socket Socket { get; }

    public PacketCodec Seal { get; }

    public PacketCodec Open { get; }

    public int PieceSize => Proposal.PieceSize;

    public bool Gso { get; }

    public UdpSender Plane { get; }

    public Task Run { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// The proposal (a random session id and receiver half, <paramref name="senderSecret"/>, the piece
    /// size for the path to <paramref name="guess"/>) and its data plane, not yet sending.
    /// </summary>
    public static ProposedStart Create(byte[] senderSecret, IPEndPoint guess, Manifest m, ChunkLocation[] locations, Congestion.RatePolicy rate, double rttSeconds, MemoryBudget.Account? budget, CancellationToken ct)
    {
        var (udp, target, pieceSize, gso) = DataSocket.Open(guess);
        var source = new ChunkSource(locations);
        PacketCodec? seal = null;
        PacketCodec? open = null;
        try
        {
            var proposal = new Messages.SessionProposal((uint)Random.Shared.NextInt64(1, uint.MaxValue), RandomNumberGenerator.GetBytes(32), senderSecret, pieceSize);
            var keys = SessionKeys.Derive(senderSecret, proposal.ReceiverSecret, m.Hash);
            seal = new PacketCodec(keys.SenderToReceiverKey, keys.SenderToReceiverSalt);
            open = new PacketCodec(keys.ReceiverToSenderKey, keys.ReceiverToSenderSalt);
            var plane = new UdpSender(udp, seal, open, proposal.SessionId, m, source, [.. Enumerable.Range(0, m.Chunks.Length)], new Congestion.PacingController(rate), gso, pieceSize, rttSeconds, speculative: true) { Budget = budget };
            return new ProposedStart(proposal, target, udp, seal, open, gso, plane, CancellationTokenSource.CreateLinkedTokenSource(ct), source);
        }
        catch
        {
            source.Dispose();
            udp.Dispose();
            seal?.Dispose();
            open?.Dispose();
            throw;
        }
    }

    /// <summary>Starts the data, once the OFFER carrying the proposal is on its way.</summary>
    public void Go() => Run = Plane.RunAsync(_cts.Token);

    /// <summary>Stops data the receiver will not take; returns the bytes it put on the wire.</summary>
    public async Task<long> AbandonAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Run.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
        }

        Plane.Dispose();
        Socket.Dispose();
        return Plane.WireBytes;
    }

    /// <summary>Keys, socket, file reader and token source (an adopted start hands the first two on; disposing twice is harmless).</summary>
    public void Dispose()
    {
        Seal.Dispose();
        Open.Dispose();
        Socket.Dispose();
        _source.Dispose();
        _cts.Dispose();
    }
}
