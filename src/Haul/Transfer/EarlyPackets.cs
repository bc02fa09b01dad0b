using System.Net;

namespace Haul.Transfer;

/// <summary>
/// Packets that arrive before the receiver can place them: the sender starts its data right after START
/// (or with the OFFER, in a proposed session) without waiting a round trip, so its first packets can
/// overtake START, which crosses TCP, or the receiver's plan. They are kept sealed, within bounds, until
/// the keys and the plan are in, then handed over once, in arrival order; past the bounds they are
/// dropped, and the sender resends them.
/// </summary>
/// <remarks>Owned by the UDP receive thread.</remarks>
internal sealed class EarlyPackets
{
    public const int MaxPackets = 8192;

    /// <summary>And bytes: anyone can send to the port with a guessed session id.</summary>
    public const long MaxBytes = 16L * 1024 * 1024;

    private List<(byte[] Packet, SocketAddress From, bool Counted)>? _kept = [];
    private long _bytes;

    /// <summary>Packets handed over when keeping ended (the receive log reports it).</summary>
    public long Placed { get; private set; }

    /// <summary>Some are kept, waiting for <see cref="TakeAll"/>.</summary>
    public bool Pending => _kept is { Count: > 0 };

    /// <summary>Whether a packet of <paramref name="length"/> bytes may be kept: still keeping, and within both bounds.</summary>
    public bool HasRoomFor(int length) => _kept is { Count: < MaxPackets } && _bytes + length <= MaxBytes;

    /// <summary>Keeps a copy of <paramref name="packet"/> and its sender's address. <paramref name="counted"/>: already authenticated and acknowledged.</summary>
    public void Keep(ReadOnlySpan<byte> packet, SocketAddress from, bool counted)
    {
        if (!HasRoomFor(packet.Length))
        {
            return;
        }

        var copy = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span.CopyTo(copy.Buffer.Span);
        _kept!.Add((packet.ToArray(), copy, counted));
        _bytes += packet.Length;
    }

    /// <summary>Ends keeping: the packets kept, in arrival order, the first time; null after. Nothing is kept from then on.</summary>
    public List<(byte[] Packet, SocketAddress From, bool Counted)>? TakeAll()
    {
        var kept = _kept;
        if (kept is null)
        {
            return null;
        }

        _kept = null;
        _bytes = 0;
        Placed = kept.Count;
        return kept;
    }
}
