namespace Haul.Transfer;

/// <summary>How chunk bytes reach the receiver: sealed UDP packets, or frames on the TLS connection.</summary>
internal interface IDataPlane : IDisposable
{
    Task RunAsync(CancellationToken cancellationToken);

    void OnChunksDone(int[] chunks);

    void OnChunkBad(int chunk);

    /// <summary>A counter that grows while the transfer moves (chunks confirmed, bytes taken by the peer).</summary>
    long Progress { get; }
}
