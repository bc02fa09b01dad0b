using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// Runs a listing ahead of its consumer on another thread, in batches, so the two ends of a merge walk
/// their trees at the same time (two cores, two directory walks) and the channel hop is paid per batch.
/// </summary>
internal static class Prefetch
{
    public static async IAsyncEnumerable<SyncEntry> Ahead(IAsyncEnumerable<SyncEntry> source, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var ch = Channel.CreateBounded<List<SyncEntry>>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    var batch = new List<SyncEntry>(1024);
                    await foreach (var e in source.WithCancellation(stop.Token).ConfigureAwait(false))
                    {
                        batch.Add(e);
                        if (batch.Count == 1024)
                        {
                            await ch.Writer.WriteAsync(batch, stop.Token).ConfigureAwait(false);
                            batch = new List<SyncEntry>(1024);
                        }
                    }

                    if (batch.Count > 0)
                    {
                        await ch.Writer.WriteAsync(batch, stop.Token).ConfigureAwait(false);
                    }

                    ch.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    ch.Writer.TryComplete(ex);
                }
            },
            stop.Token);
        try
        {
            await foreach (var batch in ch.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var e in batch)
                {
                    yield return e;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await producer.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
