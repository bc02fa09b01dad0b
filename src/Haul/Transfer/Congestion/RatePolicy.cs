using System.Globalization;

namespace Haul.Transfer.Congestion;

/// <summary>What the user asked for: mode and bounds, in wire bytes per second.</summary>
internal sealed record RatePolicy
{
    public RateMode Mode { get; init; } = RateMode.Fair;

    public double MinBytesPerSec { get; init; } = 125_000;

    public double MaxBytesPerSec { get; init; } = 5e9;

    /// <summary>Where startup begins; it multiplies by ~2.9 per round trip from here.</summary>
    public double InitialBytesPerSec { get; init; } = 1.25e6;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MinBytesPerSec <= 0)
        {
            errors.Add("--min-rate must be positive");
        }

        if (MaxBytesPerSec < MinBytesPerSec)
        {
            errors.Add("--max-rate must not be below --min-rate");
        }

        if (Mode == RateMode.Fixed && MaxBytesPerSec >= 5e9)
        {
            errors.Add("--mode fixed needs --max-rate (the rate to hold)");
        }

        return errors;
    }

    /// <summary>Builds the rate policy from the flags (or API fields) over a baseline (the node's policy); every problem is listed in one line, which points to <paramref name="help"/>.</summary>
    public static RatePolicy Parse(string? mode, string? minRate, string? maxRate, RatePolicy baseline, string help)
    {
        var errors = new List<string>();
        var policy = baseline;
        if (mode is not null)
        {
            if (Enum.TryParse<RateMode>(mode, ignoreCase: true, out var m) && !int.TryParse(mode, out _))
            {
                policy = policy with { Mode = m };
            }
            else
            {
                errors.Add($"--mode '{mode}' is not fair, background or fixed");
            }
        }

        try
        {
            if (minRate is not null)
            {
                policy = policy with { MinBytesPerSec = ParseRate(minRate) };
            }

            if (maxRate is not null)
            {
                double max = ParseRate(maxRate);
                policy = policy with { MaxBytesPerSec = max, InitialBytesPerSec = Math.Min(new RatePolicy().InitialBytesPerSec, max) };
            }
        }
        catch (HaulException e)
        {
            errors.Add(e.Message);
        }

        errors.AddRange(policy.Validate());
        if (errors.Count > 0)
        {
            throw new HaulException(ErrorCode.Usage, string.Join("; ", errors), $"see '{help}'");
        }

        return policy;
    }

    /// <summary>A rate as typed: bytes per second with K, M, G, T (powers of 1000), or bits with "bit" (800Mbit).</summary>
    public static double ParseRate(string text)
    {
        string t = text.Trim();
        double mul = 1;
        bool bits = t.EndsWith("bit", StringComparison.OrdinalIgnoreCase);
        if (bits)
        {
            t = t[..^3];
        }

        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            mul = char.ToUpperInvariant(t[^1]) switch
            {
                'K' => 1e3,
                'M' => 1e6,
                'G' => 1e9,
                'T' => 1e12,
                _ => throw new HaulException(ErrorCode.Usage, $"'{text}' is not a rate", "write it like 500M (bytes/s) or 800Mbit"),
            };
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v <= 0)
        {
            throw new HaulException(ErrorCode.Usage, $"'{text}' is not a rate", "write it like 500M (bytes/s) or 800Mbit");
        }

        return v * mul / (bits ? 8 : 1);
    }
}
