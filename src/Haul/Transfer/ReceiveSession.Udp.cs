using System.Diagnostics;
using System.Net;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>The packet path. Everything here runs on the UDP endpoint's receive thread.</summary>
internal sealed partial class ReceiveSession
{
    /// <summary>Chunk buffers being assembled, at most (the sender's window is held under this).</summary>
    internal const long MaxAssemblyBytes = 192L * 1024 * 1024;

    // Above the sender's window ceiling by a margin for chunks whose completion is still in flight.
    private const long AssemblyBudget = MaxAssemblyBytes + (32L * 1024 * 1024);

    /// <summary>
    /// Chunk buffers being assembled by every session of one peer, and of the whole node. A peer may hold
    /// 32 connections, each with a transfer whose chunks it never completes: with only the per-transfer
    /// budget five of them grew a receiver by 758 MB. One transfer at full window fits a peer's budget.
    /// </summary>
    internal const long PeerAssemblyBudget = AssemblyBudget + (32L * 1024 * 1024);

    internal const long NodeAssemblyBudget = 2 * PeerAssemblyBudget;

    /// <summary>Bytes of chunk buffers held by <paramref name="peer"/>'s receiving sessions (tests).</summary>
    internal static long AssemblingBytes(Haul.Security.NodeId peer) => MemoryBudget.Receiving.HeldBy(peer);

    // Chunks under way, from the keys on (set before _s2r is published, so the receive thread sees it).
    private ChunkAssembler? _assembler;

    // What the ACKs report; chunks verified and journaled reach it from the writer.
    private readonly AckBuilder _acks = new(Stopwatch.GetTimestamp(), Stopwatch.Frequency);
    private Func<int, bool>? _stillAssembled;
    private readonly byte[] _plain = new byte[64 * 1024];
    private readonly byte[] _ackPacket = new byte[DataFormat.MaxAckPlain + PacketCodec.Overhead];
    private PacketCodec? _s2r;
    private PacketCodec? _r2s;
    private uint _sessionId;
    private SocketAddress? _peerAddress;
    private MemoryBudget.Account? _assembly;
    private long _freshPieces; // pieces that were new: the sender moving the transfer (the stall watch reads it)
    private long _dupPieces;
    private long _badChunks;

    // Packets that arrive before START's keys (or the plan) are here: kept sealed, within bounds, then placed in order.
    private readonly EarlyPackets _early = new();

    // A taken proposal's keys before the plan (ReceiveSession.Adopt): packets kept early are authenticated
    // and counted on arrival, and acknowledged (header only: no chunk can be placed yet), so the sender
    // measures the path while the manifest is still crossing. A separate codec, so placing them later
    // through the session's own codec does not meet its replay window twice.
    private PacketCodec? _preplan;

    public void OnPacket(ReadOnlySpan<byte> packet, SocketAddress from, UdpEndpoint endpoint)
    {
        var codec = Volatile.Read(ref _s2r);
        if (codec is null)
        {
            if (_early.HasRoomFor(packet.Length))
            {
                bool counted = false;
                if (Volatile.Read(ref _preplan) is { } pre && (PacketType)packet[0] == PacketType.Data)
                {
                    if (!CountEarly(packet, from, endpoint, pre))
                    {
                        return; // forged or replayed: not kept
                    }

                    counted = true;
                }

                _early.Keep(packet, from, counted);
            }

            return;
        }

        PlaceEarly(codec, endpoint);
        OnPacket(packet, from, endpoint, codec);
    }

    /// <summary>The packets kept from before START, once its keys are here (receive thread only).</summary>
    private void PlaceEarly(PacketCodec codec, UdpEndpoint endpoint)
    {
        if (_early.TakeAll() is not { } early)
        {
            return;
        }

        foreach (var (p, f, counted) in early)
        {
            OnPacket(p, f, endpoint, codec, counted);
        }
    }

    /// <summary>
    /// An early DATA packet of a taken proposal, before the plan: authenticated (into scratch space; it
    /// is kept sealed and placed later), then counted and acknowledged as it arrives, with its own
    /// timestamp and one-way delay. Returns false for a forged or replayed packet.
    /// </summary>
    private bool CountEarly(ReadOnlySpan<byte> packet, SocketAddress from, UdpEndpoint endpoint, PacketCodec pre)
    {
        int n = PacketCodec.PlainLength(packet);
        if (!DataCodec.TryRead(packet, out var d) || n < 0 || n > _plain.Length || !pre.Open(packet, _plain.AsSpan(0, n)))
        {
            return false;
        }

        Learn(from);
        Stamp(d.SenderMicros);
        Count(packet, PacketType.Data, endpoint);
        return true;
    }

    private void OnPacket(ReadOnlySpan<byte> packet, SocketAddress from, UdpEndpoint endpoint, PacketCodec codec, bool counted = false)
    {
        var type = (PacketType)packet[0];
        if (type == PacketType.Data)
        {
            if (!OnData(packet, codec, stamp: !counted))
            {
                return;
            }

            if (counted)
            {
                return; // counted and acknowledged when it arrived
            }
        }
        else
        {
            int n = PacketCodec.PlainLength(packet);
            if (n < 0 || n > _plain.Length || !codec.Open(packet, _plain.AsSpan(0, n)))
            {
                return;
            }

            if (type == PacketType.Probe)
            {
                Learn(from);
                int len = _r2s!.Seal(PacketType.ProbeAck, _sessionId, _plain.AsSpan(0, n), _ackPacket);
                endpoint.SendTo(_ackPacket.AsSpan(0, len), _peerAddress!);
            }
        }

        Learn(from);
        Count(packet, type, endpoint);
    }

    /// <summary>An authenticated packet in the counters every ACK reports; every 64th DATA packet sends one.</summary>
    private void Count(ReadOnlySpan<byte> packet, PacketType type, UdpEndpoint endpoint)
    {
        if (_acks.OnAuthenticated(PacketHeaderCodec.ReadNumber(packet), packet.Length, type == PacketType.Data))
        {
            SendAck(Stopwatch.GetTimestamp(), endpoint);
        }
    }

    /// <summary>The send timestamp the next ACK echoes, and the one-way delay it reports.</summary>
    private void Stamp(uint ts) => _acks.Stamp(ts, Stopwatch.GetTimestamp());

    public void OnTick(long nowTicks, UdpEndpoint endpoint)
    {
        if (Volatile.Read(ref _superseded) != _supersededSeen)
        {
            DropSuperseded();
        }

        if (_early.Pending && Volatile.Read(ref _s2r) is { } codec)
        {
            PlaceEarly(codec, endpoint);
        }

        if (_peerAddress is null)
        {
            return;
        }

        if (_acks.Due(nowTicks, _assembler?.Partial.Count ?? 0))
        {
            SendAck(nowTicks, endpoint);
        }
    }

    private int _supersededSeen;

    /// <summary>Lets go of assemblies whose chunks came whole over TCP (receive thread only).</summary>
    private void DropSuperseded()
    {
        _supersededSeen = Volatile.Read(ref _superseded);
        _notAssembling ??= c => _states[c] != ChunkState.Assembling;
        _assembler?.DropWhere(_notAssembling);
    }

    private Func<int, bool>? _notAssembling;

    /// <summary>Only authenticated packets may set where feedback goes, so a spoofer cannot redirect it.</summary>
    private void Learn(SocketAddress from)
    {
        if (_peerAddress is null || !_peerAddress.Equals(from))
        {
            var copy = new SocketAddress(from.Family, from.Size);
            from.Buffer.Span.CopyTo(copy.Buffer.Span);
            _peerAddress = copy;
        }
    }

    /// <summary>
    /// Places one DATA packet. The cleartext header says where the payload belongs; duplicates are
    /// dropped before any crypto, and the payload is decrypted straight into the chunk buffer, so a
    /// forged packet can only ever touch a region that holds no data yet.
    /// </summary>
    private bool OnData(ReadOnlySpan<byte> packet, PacketCodec codec, bool stamp = true)
    {
        var assembler = _assembler!;
        if (!DataCodec.TryRead(packet, out var d) || !assembler.TryLocate(d, DataCodec.PayloadLength(packet.Length), out int c, out int piece))
        {
            return false;
        }

        var st = _states[c];
        ChunkAssembly? asm;
        bool fresh = false;
        if (st == ChunkState.Needed)
        {
            asm = assembler.Rent(c);
            if (asm is null)
            {
                return false; // Over budget: the sender retransmits after its timeout.
            }

            fresh = true;
        }
        else if (st != ChunkState.Assembling || !assembler.TryGet(c, out asm) || asm.Has(piece))
        {
            _dupPieces++;
            return false;
        }

        if (!codec.Open(packet, asm.Buffer.AsSpan((int)d.Offset, DataCodec.PayloadLength(packet.Length))))
        {
            if (fresh)
            {
                assembler.Release(asm);
            }

            return false;
        }

        if (fresh)
        {
            if (!_states.TryMove(c, ChunkState.Needed, ChunkState.Assembling))
            {
                // Taken from TCP meanwhile.
                assembler.Release(asm);
                return false;
            }

            assembler.Start(asm);
        }

        if (stamp)
        {
            Stamp(d.SenderMicros);
        }

        _freshPieces++;
        if (assembler.Mark(asm, piece))
        {
            if (!_states.TryMove(c, ChunkState.Assembling, ChunkState.Complete))
            {
                // Taken whole from TCP meanwhile.
                assembler.Release(asm);
                return true;
            }

            _acks.OnAssembled(c, asm.Pieces);
            _toWriter.Writer.TryWrite(new CompletedChunk(c, asm.Buffer, asm.Length, true));
        }

        return true;
    }

    private void SendAck(long now, UdpEndpoint endpoint)
    {
        if (_peerAddress is null || _r2s is null)
        {
            return;
        }

        _stillAssembled ??= c => _states[c] == ChunkState.Complete;
        var plain = _acks.Build(now, _assembler is { } assembler ? assembler.Partial : [], _stillAssembled);
        int len = _r2s.Seal(PacketType.Ack, _sessionId, plain, _ackPacket);
        endpoint.SendTo(_ackPacket.AsSpan(0, len), _peerAddress);
    }

    private void ReleaseAssembly(int length) => _assembly?.Return(length);
}
