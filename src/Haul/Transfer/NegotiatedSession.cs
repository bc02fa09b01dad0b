using System.Net;
using Haul.Protocol;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>
/// What a sender and its receiver agreed before the data moves (docs/protocol.md, "Session"): the session
/// id and both key halves with the keys derived from them, the piece size, where UDP goes (null: the data
/// crosses the TLS connection), and the need list when the answer carried it. Immutable; the socket and
/// codecs it runs on are the <see cref="SendNegotiation"/>'s (<see cref="UdpLink"/>).
/// </summary>
/// <param name="UdpPort">The receiver's UDP port as its answer gave it (0: it serves none).</param>
/// <param name="UdpMode">The mode START announces: UDP where the receiver serves it and the sender may use it.</param>
/// <param name="Target">Where the UDP data goes; null when no UDP socket was opened.</param>
/// <param name="EarlyStart">The receiver answered with EARLY_ACCEPT: the data starts before the need list (speculatively).</param>
/// <param name="Adopted">The receiver took the session the OFFER proposed: the data sent with the OFFER goes on.</param>
/// <param name="WastedBytes">Bytes put on the wire for a proposal the receiver did not take.</param>
/// <param name="Need">The need list, when the answer was ACCEPT; null after an EARLY_ACCEPT (it follows START).</param>
internal sealed record NegotiatedSession(
    uint SessionId,
    byte[] SenderSecret,
    byte[] ReceiverSecret,
    SessionKeys Keys,
    ushort UdpPort,
    int PieceSize,
    bool UdpMode,
    IPEndPoint? Target,
    bool Gso,
    bool EarlyStart,
    bool Adopted,
    long WastedBytes,
    NeedList? Need)
{
    /// <summary>The START frame's payload: the sender's key half, the mode and the piece size.</summary>
    public WireWriter EncodeStart() => new Messages.Start(SenderSecret, UdpMode ? Messages.DataMode.Udp : Messages.DataMode.Tcp, PieceSize).Encode();

    /// <summary>
    /// The need list from the ACCEPT that follows an EARLY_ACCEPT, which must name the same session (id,
    /// key half, port): data already flows under those keys.
    /// </summary>
    public NeedList NeedListFrom(Messages.Accept accept)
    {
        if (accept.SessionId != SessionId || !accept.ReceiverSecret.AsSpan().SequenceEqual(ReceiverSecret) || accept.UdpPort != UdpPort)
        {
            ThrowHelper.Protocol("the accept does not match the early accept");
        }

        return NeedList.From(accept);
    }
}
