using Haul.Content;
using Haul.Security;
using Haul.State;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Transfer;

/// <summary>What a receiving node lends each of its receive sessions: the same for every transfer it takes.</summary>
/// <param name="Store">The node catalog: the transfer journal, peers, receipts.</param>
/// <param name="Me">The node's identity: signs the receipts.</param>
/// <param name="Log">Where the session logs.</param>
internal sealed record ReceiveNode(INodeCatalog Store, NodeIdentity Me, ILogger Log)
{
    /// <summary>The UDP endpoint data arrives on; null: TCP only.</summary>
    public UdpEndpoint? Udp { get; init; }

    /// <summary>The host named in ACCEPT for the UDP data ("" = the control connection's address).</summary>
    public string UdpAdvertiseHost { get; init; } = string.Empty;

    /// <summary>Remembered chunk lists: old versions are not re-read to find reusable chunks, and every
    /// file placed is remembered for the next delta. Null: none.</summary>
    public IChunkCache? ChunkCache { get; init; }
}
