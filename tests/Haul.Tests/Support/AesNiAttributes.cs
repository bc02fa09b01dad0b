using Haul.Transport;

namespace Haul.Tests.Support;

/// <summary>A fact about <see cref="AesGcmNi"/>: reported as skipped, not passed, on a CPU without AES-NI and PCLMULQDQ (the codec uses the base library there).</summary>
internal sealed class AesNiFactAttribute : FactAttribute
{
    public AesNiFactAttribute()
    {
        if (!AesGcmNi.IsSupported)
        {
            Skip = "this CPU has no AES-NI/PCLMULQDQ: AesGcmNi is not used here";
        }
    }
}

/// <summary>A theory about <see cref="AesGcmNi"/>: skipped, not passed, on a CPU without AES-NI and PCLMULQDQ.</summary>
internal sealed class AesNiTheoryAttribute : TheoryAttribute
{
    public AesNiTheoryAttribute()
    {
        if (!AesGcmNi.IsSupported)
        {
            Skip = "this CPU has no AES-NI/PCLMULQDQ: AesGcmNi is not used here";
        }
    }
}
