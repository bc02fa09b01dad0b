namespace Haul.Transfer.Congestion;

/// <summary>How a transfer uses a shared bottleneck.</summary>
internal enum RateMode
{
    /// <summary>Finds the bottleneck rate and shares it with other flows; backs off when the queue grows.</summary>
    Fair,

    /// <summary>Scavenger (LEDBAT-like): holds queueing delay under a small target, yielding to other traffic.</summary>
    Background,

    /// <summary>A set rate (the maximum), for dedicated links.</summary>
    Fixed,
}
