namespace Haul.Transfer;

/// <summary>What a completed send reports: the verified receipt and the transfer's figures.</summary>
internal sealed record SendResult(
    Receipt Receipt,
    string PeerName,
    TimeSpan Elapsed,
    long Bytes,
    int Files,
    long ChunkBytesSent,
    long ReusedBytes,
    long WireBytes,
    long Packets,
    long Retransmitted,
    string Mode,
    double SrttMs,
    bool EarlyStart = false,
    bool ProposedSession = false,
    TimeSpan FeedbackBeforeAccept = default);
