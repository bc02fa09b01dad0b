using System.Runtime.CompilerServices;
using System.Text;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// Every path an end lists is checked by the manifest rule (<see cref="PathSafety.IsSafeRelative"/>)
/// before anything uses it: an S3 key, a peer's listing or a local name may hold "..", an absolute
/// path, NUL, a backslash, an empty or "." component or an over-long name. Such an entry is left out
/// of the listing and reported once, so the runner counts it as an error (and then deletes nothing).
/// </summary>
internal static class ListingGuard
{
    private const int MaxShown = 200;

    public static async IAsyncEnumerable<SyncEntry> Safe(IAsyncEnumerable<SyncEntry> listing, Action<SyncEntry, string> refused, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var e in listing.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (PathSafety.IsSafeRelative(e.Path, out var why))
            {
                yield return e;
            }
            else
            {
                refused(e, why);
            }
        }
    }

    /// <summary>The name as one printable line: control characters escaped, cut after a few hundred characters.</summary>
    public static string Printable(string path) => Security.Printable.Of(path, MaxShown);
}
