using System.Net;
using Haul.Security;
using Microsoft.Extensions.Logging;

namespace Haul;

/// <summary>Every log message, source-generated, with one table of event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "node {Name} ({Id}) serving on tcp {Tcp} and udp {Udp} (gro {Gro}); inbox {Inbox}")]
    public static partial void Serving(ILogger logger, string name, NodeId id, IPEndPoint tcp, string udp, bool gro, string inbox);

    [LoggerMessage(2, LogLevel.Warning, "accept failed: {Error}")]
    public static partial void AcceptFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(3, LogLevel.Warning, "refused TLS connection from {Remote}: node {Id} is not trusted (add it with 'haul peer add {Id}' or pair with 'haul invite')")]
    public static partial void RefusedUntrusted(ILogger logger, IPEndPoint remote, NodeId id);

    [LoggerMessage(4, LogLevel.Warning, "TLS handshake with {Remote} failed: {Error}")]
    public static partial void HandshakeFailed(ILogger logger, IPEndPoint remote, string error);

    [LoggerMessage(5, LogLevel.Warning, "connection from {Remote} ({Id}) ended: {Message}")]
    public static partial void ConnectionEnded(ILogger logger, IPEndPoint remote, string id, string message);

    [LoggerMessage(6, LogLevel.Error, "connection from {Remote} failed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, IPEndPoint remote);

    [LoggerMessage(7, LogLevel.Warning, "refused join from {Id}: the invite token is unknown, used or expired")]
    public static partial void JoinRefused(ILogger logger, NodeId id);

    [LoggerMessage(8, LogLevel.Information, "paired with {Name} ({Id}) through an invite")]
    public static partial void Paired(ILogger logger, string name, NodeId id);

    [LoggerMessage(20, LogLevel.Information, "receiving '{Root}' from {Peer}: {Files} files, {Bytes} bytes, manifest {Hash}")]
    public static partial void Receiving(ILogger logger, string root, string peer, int files, long bytes, string hash);

    [LoggerMessage(21, LogLevel.Information, "data for '{Root}' flows over the TLS connection (UDP not used)")]
    public static partial void DataOverTls(ILogger logger, string root);

    [LoggerMessage(22, LogLevel.Information, "received '{Root}' from {Peer}: {Files} files, {Bytes} bytes; forged {Forged}, replayed {Replayed}, duplicate pieces {Dup}, bad chunks {Bad}, packets before START {Early}")]
    public static partial void Received(ILogger logger, string root, string peer, int files, long bytes, long forged, long replayed, long dup, long bad, long early);

    [LoggerMessage(27, LogLevel.Warning, "refused '{Root}' from {Peer}: it needs {Need} bytes on disk and {Free} are free")]
    public static partial void RefusedTooLarge(ILogger logger, string root, string peer, long need, long free);

    [LoggerMessage(28, LogLevel.Warning, "refused an offer of manifest {Hash} from {Peer}: the same manifest is already being received into {Destination}")]
    public static partial void RefusedBusy(ILogger logger, string hash, string peer, string destination);

    [LoggerMessage(30, LogLevel.Warning, "{Notice}")]
    public static partial void Notice(ILogger logger, string notice);

    [LoggerMessage(40, LogLevel.Warning, "UDP receive failed: {Error}")]
    public static partial void UdpReceiveFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(50, LogLevel.Information, "job '{Job}' started ({Trigger})")]
    public static partial void JobStarted(ILogger logger, string job, string trigger);

    [LoggerMessage(51, LogLevel.Information, "job '{Job}' finished with exit code {Code}: {Message}")]
    public static partial void JobFinished(ILogger logger, string job, int code, string message);

    [LoggerMessage(58, LogLevel.Warning, "job '{Job}' was saved as a command line that no longer reads ({Reason}); it keeps no spec and its runs fail until it is added again")]
    public static partial void JobNotMigrated(ILogger logger, string job, string reason);

    [LoggerMessage(52, LogLevel.Information, "job '{Job}' watching {Path}")]
    public static partial void JobWatching(ILogger logger, string job, string path);

    [LoggerMessage(53, LogLevel.Warning, "job scheduler: {Error}")]
    public static partial void JobSchedulerError(ILogger logger, string error);

    [LoggerMessage(60, LogLevel.Warning, "refused {Peer} on folder {Folder}: {Reason}")]
    public static partial void FolderRefused(ILogger logger, string peer, string folder, string reason);

    [LoggerMessage(61, LogLevel.Information, "{Peer} removed {Count} files in folder {Folder} ({Op})")]
    public static partial void FolderRemoved(ILogger logger, string peer, string folder, long count, string op);

    [LoggerMessage(62, LogLevel.Information, "{Peer} pulled {Files} files ({Bytes} bytes, {Sent} sent after reuse) from folder {Folder}")]
    public static partial void FolderPulled(ILogger logger, string peer, string folder, int files, long bytes, long sent);

    [LoggerMessage(70, LogLevel.Information, "transfer {Id} ({Kind} with {Peer}) {State}")]
    public static partial void TransferEnded(ILogger logger, string id, string kind, string peer, string state);

    [LoggerMessage(73, LogLevel.Error, "transfer {Id} ({Kind}) failed unexpectedly")]
    public static partial void TransferCrashed(ILogger logger, Exception exception, string id, string kind);

    [LoggerMessage(71, LogLevel.Information, "REST API on http://{Endpoint} (bearer token in {TokenFile})")]
    public static partial void ApiServing(ILogger logger, string endpoint, string tokenFile);

    [LoggerMessage(72, LogLevel.Warning, "the REST API listens on {Endpoint}, which is not loopback: anyone who can reach it and holds the token controls this node; put it behind TLS (a reverse proxy) or bind 127.0.0.1")]
    public static partial void ApiExposed(ILogger logger, string endpoint);

    [LoggerMessage(131, LogLevel.Warning, "{Path}: {Reason}")]
    public static partial void LinkSkipped(ILogger logger, string path, string reason);
}
