namespace Haul.State;

internal sealed record ReceiptRecord(string ManifestHash, string PeerId, string PeerName, long Files, long Bytes, DateTimeOffset DeliveredAt, byte[] Body, byte[] Signature);
