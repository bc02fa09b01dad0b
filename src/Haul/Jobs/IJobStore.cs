namespace Haul.Jobs;

/// <summary>
/// Jobs and their runs (part of the node catalog). <see cref="JobStore"/> is the SQLite implementation
/// (in haul.db); another passes <c>JobStoreConformance</c> in the tests.
/// </summary>
internal interface IJobStore : IDisposable
{
    void Add(Job job);

    Job? Find(string name);

    Job Get(string name);

    IReadOnlyList<Job> List();

    bool Remove(string name);

    void SetPaused(string name, bool paused);

    void SetNextRun(string name, DateTimeOffset? next);

    /// <summary>Stores a job's typed spec (the migration of a job saved as a command line).</summary>
    void SetSpec(string name, Operations.TransferRequest spec);

    long Started(string name, string trigger, DateTimeOffset at);

    void Finished(long runId, string name, DateTimeOffset at, int exitCode, string message);

    IReadOnlyList<JobRun> History(string name, int limit = 20);
}
