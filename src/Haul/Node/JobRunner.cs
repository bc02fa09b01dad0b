using Haul.Jobs;

namespace Haul.Node;

/// <summary>
/// Runs a job's typed spec as a transfer of the node's <see cref="TransferManager"/>, in its process:
/// it shows in the transfer list and its events with byte-level progress like any other, and can be
/// cancelled there. The result is the job run's exit code (0, or the error's code) and one line.
/// </summary>
internal static class JobRunner
{
    public static async Task<(int ExitCode, string Message)> RunAsync(TransferManager transfers, Job job, CancellationToken ct)
    {
        if (job.Spec is null)
        {
            return NoSpec(job);
        }

        TransferView view;
        try
        {
            view = transfers.Start(job.Spec, null).View;
        }
        catch (HaulException ex)
        {
            return ((int)ex.Code, ex.Message);
        }

        var end = await transfers.WaitAsync(view.Id, ct).ConfigureAwait(false);
        return Result(end);
    }

    /// <summary>Runs a job in the caller's process with no node serving (haul job run): the same request, the same operations, no transfer list.</summary>
    public static async Task<(int ExitCode, string Message)> RunHereAsync(string home, Job job, CancellationToken ct)
    {
        if (job.Spec is null)
        {
            return NoSpec(job);
        }

        try
        {
            TransferManager.CheckShape(job.Spec);
            using var index = Sync.TreeIndex.ForHome(home);
            var outcome = await TransferRunners.RunAsync(new SyncContext(home, index, null), job.Spec, _ => { }, ct).ConfigureAwait(false);
            return (0, outcome.Summary);
        }
        catch (HaulException ex)
        {
            return ((int)ex.Code, ex.Message);
        }
    }

    private static (int, string) NoSpec(Job job) =>
        ((int)ErrorCode.Usage, $"job '{job.Name}' has no spec: it was saved as 'haul {string.Join(' ', job.Command)}' by an older version and that no longer reads; remove it and add it again");

    private static (int ExitCode, string Message) Result(TransferView end)
    {
        return end.State switch
        {
            "done" => (0, end.Summary ?? "done"),
            "failed" => (end.ErrorCode ?? (int)ErrorCode.Internal, end.Error ?? "failed"),
            _ => ((int)ErrorCode.Cancelled, $"transfer {end.Id} {end.State}"),
        };
    }
}
