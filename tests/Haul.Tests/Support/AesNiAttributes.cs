using Haul.Transport;

namespace Haul.Tests.Support;

/// <summary>A fact about <see cref="AesGcmNi"/>: reported as skipped, not passed, on a CPU without AES-NI and PCLMULQDQ (the codec uses the base library there).</summary>
internal sealed class AesNiFactAttribute : FactAttribute
{
    public AesNiFactAttribute() => Skip = AesNi.SkipReason;
}

/// <summary>A theory about <see cref="AesGcmNi"/>: skipped, not passed, on a CPU without AES-NI and PCLMULQDQ.</summary>
internal sealed class AesNiTheoryAttribute : TheoryAttribute
{
    public AesNiTheoryAttribute() => Skip = AesNi.SkipReason;
}

internal static class AesNi
{
    /// <summary>Null where the instructions exist (the test runs), else why it is skipped.</summary>
    public static string? SkipReason => AesGcmNi.IsSupported ? null : "this CPU has no AES-NI/PCLMULQDQ: AesGcmNi is not used here";
}
