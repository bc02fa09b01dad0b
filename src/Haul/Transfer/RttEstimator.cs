namespace Haul.Transfer;

/// <summary>
/// The sender's round-trip estimate (RFC 6298's smoothing: SRTT gains 1/8 of each sample, RTTVAR 1/4 of
/// the deviation; the first sample sets SRTT and half of it RTTVAR) and the two waits loss recovery takes
/// from it: the NACK guard (a piece reported missing is resent once it has been out 1.25 × SRTT) and the
/// retransmission timeout, which must come after the NACK's turn. Samples come in seconds; the class keeps
/// no clock, so tests drive it with any sequence.
/// </summary>
internal sealed class RttEstimator
{
    /// <summary>Before any sample: the TCP connection's RTT when known (a long path's first timeout is not a LAN default), else 10 ms.</summary>
    public RttEstimator(double initialSeconds = double.NaN)
    {
        (Srtt, RttVar) = initialSeconds > 0 ? (initialSeconds, initialSeconds / 2) : (0.01, 0.005);
    }

    public double Srtt { get; private set; }

    public double RttVar { get; private set; }

    /// <summary>True once a sample has been taken.</summary>
    public bool Measured { get; private set; }

    /// <summary>One round trip, in seconds (samples of 0 or of a minute and more are ignored: a wrapped clock or a stale echo).</summary>
    public void OnSample(double seconds)
    {
        if (seconds is <= 0 or >= 60)
        {
            return;
        }

        if (!Measured)
        {
            (Srtt, RttVar, Measured) = (seconds, seconds / 2, true);
            return;
        }

        RttVar = (0.75 * RttVar) + (0.25 * Math.Abs(Srtt - seconds));
        Srtt = (0.875 * Srtt) + (0.125 * seconds);
    }

    /// <summary>How long a piece must have been out before a NACK resends it.</summary>
    public double NackGuard => NackGuardFor(Srtt);

    /// <summary>When a piece no report covered is resent.</summary>
    public double RetransmitTimeout => RetransmitTimeoutFor(Srtt, RttVar);

    public static double NackGuardFor(double srtt) => (srtt * 1.25) + 0.002;

    /// <summary>TCP's SRTT + 4 × RTTVAR, at least 1.5 × SRTT (after the NACK guard on a smooth long path) and 30 ms.</summary>
    public static double RetransmitTimeoutFor(double srtt, double rttvar) => Math.Max(Math.Max(srtt + (4 * rttvar), 1.5 * srtt), 0.03);
}
