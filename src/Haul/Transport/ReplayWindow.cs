namespace Haul.Transport;

/// <summary>
/// Sliding anti-replay window over packet numbers (RFC 6479). Only called after a packet
/// authenticated, so forged packets cannot move it. A number is accepted once while it is within
/// <see cref="Size"/> of the highest seen; older numbers are rejected.
/// </summary>
/// <remarks>
/// The bitmap keeps one 64-bit word more than the window (RFC 6479, section 3): sliding clears whole
/// words, and the word the highest number moves into must never be the word that still holds the
/// window's oldest numbers. With exactly <see cref="Size"/> bits it was: after 6 and Size+5, the word
/// holding 6 was cleared for Size+5 while 6 was still inside the window, and 6 was accepted again.
/// </remarks>
internal sealed class ReplayWindow
{
    public const int Size = 1 << 16;
    private const int Words = (Size / 64) + 1;
    private readonly ulong[] _bits = new ulong[Words];
    private ulong _highest;
    private bool _any;

    /// <summary>True when <paramref name="pn"/> is new; marks it seen.</summary>
    public bool TryAccept(ulong pn)
    {
        if (!_any)
        {
            _any = true;
            _highest = pn;
        }
        else if (pn > _highest)
        {
            ulong current = _highest >> 6;
            ulong diff = (pn >> 6) - current;
            if (diff >= Words)
            {
                Array.Clear(_bits);
            }
            else
            {
                for (ulong i = 1; i <= diff; i++)
                {
                    _bits[(int)((current + i) % Words)] = 0;
                }
            }

            _highest = pn;
        }
        else if (_highest - pn >= Size)
        {
            return false;
        }

        ref ulong word = ref _bits[(int)((pn >> 6) % Words)];
        ulong mask = 1UL << (int)(pn & 63);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        return true;
    }
}
