namespace Haul.Transport;

/// <summary>
/// Sliding anti-replay window over packet numbers (RFC 6479 style). Only called after a packet
/// authenticated, so forged packets cannot move it. Packets older than the window are rejected.
/// </summary>
internal sealed class ReplayWindow
{
    public const int Size = 1 << 16;
    private readonly ulong[] _bits = new ulong[Size / 64];
    private ulong _highest;
    private bool _any;

    /// <summary>True when <paramref name="pn"/> is new; marks it seen.</summary>
    public bool TryAccept(ulong pn)
    {
        if (!_any)
        {
            _any = true;
            _highest = pn;
            Set(pn);
            return true;
        }

        if (pn > _highest)
        {
            ulong advance = pn - _highest;
            if (advance >= Size)
            {
                Array.Clear(_bits);
            }
            else
            {
                for (ulong i = _highest + 1; i <= pn && (i & 63) != 0; i++)
                {
                    Clear(i);
                }

                ulong firstWord = (_highest + 64) & ~63UL;
                for (ulong w = firstWord; w <= pn; w += 64)
                {
                    _bits[(int)((w / 64) % (Size / 64))] = 0;
                }
            }

            _highest = pn;
            Set(pn);
            return true;
        }

        if (_highest - pn >= Size)
        {
            return false;
        }

        ref ulong word = ref _bits[(int)((pn / 64) % (Size / 64))];
        ulong mask = 1UL << (int)(pn & 63);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        return true;
    }

    private void Set(ulong pn) => _bits[(int)((pn / 64) % (Size / 64))] |= 1UL << (int)(pn & 63);

    private void Clear(ulong pn) => _bits[(int)((pn / 64) % (Size / 64))] &= ~(1UL << (int)(pn & 63));
}
