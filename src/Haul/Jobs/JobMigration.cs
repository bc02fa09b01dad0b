using Microsoft.Extensions.Logging;

namespace Haul.Jobs;

/// <summary>
/// Gives jobs saved as command lines (before typed specs) their spec, once, when a node or the CLI opens
/// the job store. The command line is read by <paramref name="read"/> (the CLI's grammar, so it means
/// what it meant); one that no longer reads keeps no spec, and its runs fail with the reason.
/// </summary>
internal static class JobMigration
{
    public static int Migrate(IJobStore store, Func<IReadOnlyList<string>, Operations.TransferRequest> read, ILogger? log = null)
    {
        int migrated = 0;
        foreach (var job in store.List().Where(j => j.Spec is null))
        {
            try
            {
                store.SetSpec(job.Name, read(job.Command));
                migrated++;
            }
            catch (HaulException ex)
            {
                Log.JobNotMigrated(log ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, job.Name, ex.Message);
            }
        }

        return migrated;
    }
}
