using System.Net.Sockets;
using Haul.Transport;

namespace Haul.Transfer;

/// <summary>
/// The UDP resources a negotiated session runs on, owned by the <see cref="SendNegotiation"/> that opened
/// them and borrowed by the data plane: the connected socket, the packet codecs, the source that stops the
/// UDP data (linked to the send's own), and, for an adopted proposal, the plane already sending.
/// </summary>
internal sealed record UdpLink(Socket Socket, PacketCodec Seal, PacketCodec Open, CancellationTokenSource Stop, ProposedStart? Adopted);
