using Haul.Security;

namespace Haul.State;

internal sealed record PeerRecord(NodeId Id, string Name, string? Address, DateTimeOffset AddedAt);
