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
}
