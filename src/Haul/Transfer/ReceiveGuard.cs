using System.Collections.Concurrent;
using Haul.Content;

namespace Haul.Transfer;

/// <summary>
/// One receiving transfer per manifest and destination, and per manifest and peer, on this node at a time
/// (node-wide, so every connection and every in-process pull sees it). Two transfers of the same manifest
/// into one destination share its temporary files (.haul-partial/MANIFEST); two from one peer share its
/// journal row. Run side by side they wrote over each other's files and one signed a receipt for a file
/// of zeros. A second OFFER is refused at once with <see cref="ErrorCode.TransferBusy"/> rather than
/// queued: its sender may already be sending data, and a retry after the first ends finds the files in place.
/// </summary>
internal sealed class ReceiveGuard : IDisposable
{
    /// <summary>The folder under a destination where receives keep their pieces until they are placed.</summary>
    public const string PartialFolder = ".haul-partial";

    private static readonly ConcurrentDictionary<string, byte> Running = new(StringComparer.Ordinal);

    /// <summary>Where a transfer of <paramref name="manifest"/> into <paramref name="destination"/> keeps its pieces (resumed by this name).</summary>
    public static string PartialDirOf(string destination, Hash256 manifest) => Path.Combine(destination, PartialFolder, manifest.ToHex()[..16]);
    private readonly string _byDestination;
    private readonly string _byPeer;

    private ReceiveGuard(string byDestination, string byPeer)
    {
        _byDestination = byDestination;
        _byPeer = byPeer;
    }

    /// <summary>Takes the slot for this manifest, or null when a transfer of it into the same destination or from the same peer runs.</summary>
    public static ReceiveGuard? TryTake(string peerId, Hash256 manifest, string destination)
    {
        string hex = manifest.ToHex();
        string byDestination = "d " + hex + " " + Path.GetFullPath(destination);
        string byPeer = "p " + hex + " " + peerId;
        if (!Running.TryAdd(byDestination, 0))
        {
            return null;
        }

        if (!Running.TryAdd(byPeer, 0))
        {
            Running.TryRemove(byDestination, out _);
            return null;
        }

        return new ReceiveGuard(byDestination, byPeer);
    }

    /// <summary>Whether a transfer whose manifest starts with <paramref name="hexPrefix"/> runs into <paramref name="destination"/> in this process.</summary>
    public static bool IsReceivingInto(string destination, string hexPrefix)
    {
        string head = "d " + hexPrefix, tail = " " + Path.GetFullPath(destination);
        foreach (var key in Running.Keys)
        {
            if (key.StartsWith(head, StringComparison.Ordinal) && key.EndsWith(tail, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A sync's transfers (into a folder, not an inbox) are named by the files of that run, so an
    /// interrupted run's temporary folder is not resumed by name once the next run sends a different
    /// set: when a transfer into the folder lands, or a peer ends its connection cleanly (BYE, so no
    /// transfer of it was cut: a sync that found nothing left to send), the partial folders under
    /// <paramref name="destination"/> that no transfer in this process runs are removed. Their chunks
    /// are lost, not data (they are sent again). An inbox send keeps its own, which the same send resumes.
    /// </summary>
    public static void RemoveAbandonedPartials(string destination)
    {
        var partials = new DirectoryInfo(Path.Combine(destination, PartialFolder));
        if (!partials.Exists || partials.LinkTarget is not null)
        {
            return;
        }

        foreach (var dir in partials.EnumerateDirectories())
        {
            if (dir.Name.Length == 16 && dir.LinkTarget is null && !IsReceivingInto(destination, dir.Name))
            {
                try
                {
                    dir.Delete(recursive: true);
                }
                catch (IOException)
                {
                    // Taken by a transfer that started meanwhile, or already gone.
                }
            }
        }

        try
        {
            if (!partials.EnumerateFileSystemInfos().Any())
            {
                partials.Delete();
            }
        }
        catch (IOException)
        {
        }
    }

    private int _released;

    public void Dispose()
    {
        // Once only: a second release would free the slot of a transfer that took it since.
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            Running.TryRemove(_byPeer, out _);
            Running.TryRemove(_byDestination, out _);
        }
    }
}
