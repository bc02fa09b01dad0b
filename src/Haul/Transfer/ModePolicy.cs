namespace Haul.Transfer;

/// <summary>
/// The modes what a peer sends lands with: the manifest's permission bits, less the node's umask, and
/// never writable by others; no setuid, setgid or sticky bit (a root-run node would otherwise place
/// root-owned setuid files). Folders keep rwx for the node's own user, or it could not place into them.
/// </summary>
internal static class ModePolicy
{
    private const UnixFileMode Permissions = (UnixFileMode)0x1FF;

    public static UnixFileMode ForFile(UnixFileMode requested) => requested & Permissions & ~Native.Umask & ~UnixFileMode.OtherWrite;

    public static UnixFileMode ForDirectory(UnixFileMode requested) =>
        ForFile(requested) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
}
