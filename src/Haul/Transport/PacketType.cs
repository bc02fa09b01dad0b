namespace Haul.Transport;

internal enum PacketType : byte
{
    Data = 1,
    Probe = 2,
    ProbeAck = 3,
    Ack = 4,
}
