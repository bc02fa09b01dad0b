using System.Net;
using Haul.Security;
using Microsoft.Extensions.Logging;

namespace Haul;

/// <summary>Refusals of hostile names, addresses and connections (event ids 90–99).</summary>
internal static partial class Log
{
    [LoggerMessage(90, LogLevel.Warning, "peer {Id} sent the name '{Sent}', which is not a usable peer name; filed it as '{Name}' (rename it with 'haul peer add {Id} --name NAME')")]
    public static partial void PeerNameReplaced(ILogger logger, string sent, NodeId id, string name);

    [LoggerMessage(91, LogLevel.Warning, "refused a send from peer '{Name}' ({Id}): its name {Reason}; rename it with 'haul peer add {Id} --name NAME'")]
    public static partial void InboxRefused(ILogger logger, string name, NodeId id, string reason);

    [LoggerMessage(92, LogLevel.Warning, "the receiver named UDP host '{Host}', not the control connection's address {Remote}: ignored, UDP goes to {Remote}")]
    public static partial void UdpHostIgnored(ILogger logger, string host, IPAddress remote);

    [LoggerMessage(93, LogLevel.Warning, "refused {Count} connection(s), the last from {Remote}: {Reason}")]
    public static partial void ConnectionsRefused(ILogger logger, int count, IPEndPoint remote, string reason);

    [LoggerMessage(94, LogLevel.Warning, "closed the connection from {Remote} ({Id}): {Reason}")]
    public static partial void ConnectionTimedOut(ILogger logger, IPEndPoint remote, string id, string reason);

    [LoggerMessage(95, LogLevel.Warning, "refused a pull's answer from peer '{Peer}': it holds '{Path}', which was not asked for")]
    public static partial void Unrequested(ILogger logger, string peer, string path);

    [LoggerMessage(96, LogLevel.Warning, "ended the transfer of '{Root}' with peer '{Peer}': the peer moved nothing for {Limit} (it resumes when run again)")]
    public static partial void TransferStalled(ILogger logger, string peer, string root, string limit);

    [LoggerMessage(97, LogLevel.Warning, "refused a transfer with peer '{Peer}': {Reason}")]
    public static partial void TransfersCapped(ILogger logger, string peer, string reason);
}
