namespace Haul.Transfer;

/// <summary>How the wait for the receiver's first UDP feedback ended (<see cref="FallbackDataPlane.ProbeAsync"/>).</summary>
internal enum ProbeOutcome
{
    /// <summary>The receiver acknowledged UDP data: UDP works.</summary>
    Answered,

    /// <summary>The UDP data plane ended first (all done, or failed): nothing to switch.</summary>
    RunEnded,

    /// <summary>The control loop ended first (receipt or error): nothing to switch.</summary>
    ControlEnded,

    /// <summary>Nothing within the probe timeout: UDP is blocked or lost on the way; the data moves to TCP.</summary>
    Silent,
}
