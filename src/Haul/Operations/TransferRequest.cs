using Haul.Sync;
using Haul.Transfer.Congestion;

namespace Haul.Operations;

/// <summary>
/// What a client asks the node to move, from any surface (CLI, REST, MCP, a job): a send of a local path
/// to a peer, a pull of a peer's folder path, a sync, copy or check between two ends, or a bisync. The
/// kind's own request carries its options; the flat fields name the transfer in lists and events.
/// </summary>
/// <param name="Kind">What runs.</param>
/// <param name="Peer">Peer name or node ID (send, pull); empty for the kinds between two ends.</param>
/// <param name="Path">send: the local file or folder; pull: "folder/path" on the peer; between ends: the source (bisync: path1).</param>
/// <param name="Destination">pull: the local folder to copy into; between ends: the destination (bisync: path2).</param>
/// <param name="Rate">send: the pacing policy (null: the node's default).</param>
internal sealed record TransferRequest(TransferKind Kind, string Peer, string Path, string? Destination = null, RatePolicy? Rate = null)
{
    /// <summary>send: move the data over TLS instead of UDP.</summary>
    public bool Tcp { get; init; }

    /// <summary>sync, copy, check: the run's options (null: defaults for <see cref="Path"/> → <see cref="Destination"/>).</summary>
    public SyncRequest? Sync { get; init; }

    /// <summary>bisync: the run's options (null: defaults for <see cref="Path"/> ⇄ <see cref="Destination"/>).</summary>
    public BisyncRequest? Bisync { get; init; }

    public static TransferRequest For(SendRequest r) => new(TransferKind.Send, r.Peer, r.Path, null, r.Rate) { Tcp = r.Tcp };

    public static TransferRequest For(SyncRequest r) => new(r.Mode switch { SyncMode.Sync => TransferKind.Sync, SyncMode.Copy => TransferKind.Copy, _ => TransferKind.Check }, string.Empty, r.Source, r.Dest) { Sync = r };

    public static TransferRequest For(BisyncRequest r) => new(TransferKind.Bisync, string.Empty, r.Path1, r.Path2) { Bisync = r };

    /// <summary>The one-way run this request names (sync, copy, check).</summary>
    public SyncRequest AsSync() => Sync ?? new SyncRequest(Kind switch { TransferKind.Sync => SyncMode.Sync, TransferKind.Check => SyncMode.Check, _ => SyncMode.Copy }, Path, Destination ?? string.Empty) { MaxBytesPerSec = Rate?.MaxBytesPerSec };

    /// <summary>The two-way run this request names.</summary>
    public BisyncRequest AsBisync() => Bisync ?? new BisyncRequest(Path, Destination ?? string.Empty);

    public SendRequest AsSend() => new(Path, Peer) { Tcp = Tcp, Rate = Rate };

    /// <summary>The request's content as JSON, for comparing two requests (idempotency keys) and storing one (jobs).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, OperationsJson.Default.TransferRequest);

    /// <summary>A stored request; null when the text is not one (a hostile or damaged row is not run).</summary>
    public static TransferRequest? FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(json, OperationsJson.Default.TransferRequest);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TransferRequest))]
internal sealed partial class OperationsJson : System.Text.Json.Serialization.JsonSerializerContext;
