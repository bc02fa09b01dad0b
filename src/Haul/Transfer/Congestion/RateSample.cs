namespace Haul.Transfer.Congestion;

/// <summary>
/// One piece of receiver feedback as the controller sees it. Times in microseconds. DeliveredBytes
/// and ReceiverMicros come from the receiver's side, so delivery rate is measured where the
/// bottleneck's output arrives, free of ACK-path jitter. OwdMicros is arrival time minus the sender's
/// timestamp: the clocks' offset is unknown but constant, so its minimum is the base delay and the
/// excess is queueing delay. SentPackets is the sender's own count of packets sent when the feedback
/// arrives (0: unknown): those numbered above HighestPacket are still in flight, lost or not.
/// </summary>
internal readonly record struct RateSample(
    long NowMicros,
    double RttMicros,
    long DeliveredBytes,
    long ReceiverMicros,
    long OwdMicros,
    ulong HighestPacket,
    ulong ReceivedPackets,
    ulong SentPackets = 0);
