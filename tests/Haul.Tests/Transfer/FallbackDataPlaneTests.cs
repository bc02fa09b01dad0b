using System.Diagnostics;
using Haul.Transfer;

namespace Haul.Tests.Transfer;

/// <summary>
/// The fallback's switch decision: the data moves to TCP only when the receiver answered nothing, the UDP
/// run still runs and the control loop still reads once the probe timeout is over; never on cancellation.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FallbackDataPlaneTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Probe_IsSilent_WhenNothingAnswersWithinTheTimeout()
    {
        var sw = Stopwatch.StartNew();

        var outcome = await FallbackDataPlane.ProbeAsync(Pending(), Pending(), Pending(), TimeSpan.FromMilliseconds(100), TimeProvider.System, CancellationToken.None);

        Assert.Equal(ProbeOutcome.Silent, outcome);
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(90), $"{sw.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Probe_IsAnswered_AsSoonAsTheFirstFeedbackComes_NotAtTheTimeout()
    {
        var feedback = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sw = Stopwatch.StartNew();
        _ = Task.Delay(50).ContinueWith(_ => feedback.SetResult(), TaskScheduler.Default);

        var outcome = await FallbackDataPlane.ProbeAsync(feedback.Task, Pending(), Pending(), Long, TimeProvider.System, CancellationToken.None);

        Assert.Equal(ProbeOutcome.Answered, outcome);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"{sw.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Probe_PrefersFeedback_WhenTheTimeoutIsOverToo()
    {
        // Feedback that came counts even if the timer also ran out: a switch then would resend everything on TCP.
        var outcome = await FallbackDataPlane.ProbeAsync(Task.CompletedTask, Pending(), Pending(), TimeSpan.Zero, TimeProvider.System, CancellationToken.None);

        Assert.Equal(ProbeOutcome.Answered, outcome);
    }

    [Fact]
    public async Task Probe_DoesNotSwitch_WhenTheUdpRunEnded()
    {
        var failed = Task.FromException(new IOException("socket gone"));

        var outcome = await FallbackDataPlane.ProbeAsync(Pending(), failed, Pending(), Long, TimeProvider.System, CancellationToken.None);

        Assert.Equal(ProbeOutcome.RunEnded, outcome);
    }

    [Fact]
    public async Task Probe_DoesNotSwitch_WhenTheControlLoopEnded()
    {
        var outcome = await FallbackDataPlane.ProbeAsync(Pending(), Pending(), Task.FromException(new InvalidOperationException("receiver error")), Long, TimeProvider.System, CancellationToken.None);

        Assert.Equal(ProbeOutcome.ControlEnded, outcome);
    }

    [Fact]
    public async Task Probe_Throws_WhenTheSendIsCancelled_InsteadOfFallingBack()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FallbackDataPlane.ProbeAsync(Pending(), Pending(), Pending(), Long, TimeProvider.System, cts.Token));
    }

    private static Task Pending() => new TaskCompletionSource().Task;
}
