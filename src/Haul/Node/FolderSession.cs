using System.Net;
using System.Security.Cryptography.X509Certificates;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.State;
using Haul.Sync;
using Haul.Transfer;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Node;

/// <summary>
/// The owner's side of a peer working on one of its shared folders, over that peer's control connection.
/// Access is checked here, on the owner, for every request: a folder must exist and be shared with the
/// peer, "ro" for listing, hashing and pulling, "rw" for pushing, removing and re-timing. Paths are
/// relative to the opened target and may not pass through a symlink.
/// </summary>
internal sealed class FolderSession(ControlChannel ctl, INodeCatalog store, string home, IChunkCache chunks, NodeIdentity me, PeerRecord peer, X509Certificate2? peerCertificate, IPAddress remote, ILogger log, TransferSlots slots, TimeSpan stallTimeout) : IDisposable
{
    private ITreeIndex? _index;
    private LocalEnd? _end;
    private string _target = string.Empty;
    private string _label = string.Empty;
    private string _folderRoot = string.Empty;
    private List<string> _hints = [];
    private bool _write;
    private readonly HashSet<string> _writeTargets = new(StringComparer.Ordinal);

    /// <summary>The folder target a write-mode open chose: OFFERs go here instead of the inbox.</summary>
    public string? WriteTarget => _end is not null && _write ? _target : null;

    public static bool Handles(FrameType t) => t is FrameType.FolderOpen or FrameType.ListRequest or FrameType.Remove
        or FrameType.SetTimes or FrameType.Pull or FrameType.HashRequest or FrameType.ReuseHint;

    /// <summary>Files in the target the next OFFER may take chunks from (a sync's pending deletions), then cleared.</summary>
    public IReadOnlyList<string> TakeReuseHints()
    {
        var h = _hints;
        _hints = [];
        return h;
    }


    public async Task HandleAsync(Frame f, CancellationToken ct)
    {
        try
        {
            switch (f.Type)
            {
                case FrameType.FolderOpen:
                    Open(FolderMessages.Open.Decode(f.Payload));
                    await ctl.SendAsync(FrameType.FolderOk, new WireWriter().U8(Directory.Exists(_target) ? (byte)1 : (byte)0), ct).ConfigureAwait(false);
                    break;
                case FrameType.ListRequest:
                    await ListAsync(f.Payload, ct).ConfigureAwait(false);
                    break;
                case FrameType.HashRequest:
                    await HashAsync(FolderMessages.DecodePaths(f.Payload), ct).ConfigureAwait(false);
                    break;
                case FrameType.Remove:
                    await RemoveAsync(FolderMessages.DecodeRemove(f.Payload), ct).ConfigureAwait(false);
                    break;
                case FrameType.SetTimes:
                    await SetTimesAsync(FolderMessages.DecodeTimes(f.Payload), ct).ConfigureAwait(false);
                    break;
                case FrameType.ReuseHint:
                    // No reply: a hint, kept for the OFFER that follows.
                    RequireWrite();
                    _hints = [];
                    foreach (var p in FolderMessages.DecodePaths(f.Payload))
                    {
                        RefuseLinks(_target, p);
                        _hints.Add(Path.Combine(_target, p));
                    }

                    break;
                case FrameType.Pull:
                    await PullAsync(FolderMessages.DecodePaths(f.Payload), ct).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is HaulException { Code: not (ErrorCode.ProtocolError or ErrorCode.PeerWentAway) } or IOException or UnauthorizedAccessException)
        {
            // A refused or failed request: tell the peer and keep the connection for its next one.
            var hx = ex as HaulException ?? new HaulException(
                ex is UnauthorizedAccessException ? ErrorCode.PermissionDenied : ErrorCode.Internal,
                $"{_label}: {ex.Message}",
                "check the folder on the owning node");
            Log.FolderRefused(log, peer.Name, _label, hx.Message);
            await ctl.SendErrorAsync(hx, ct).ConfigureAwait(false);
        }
    }

    private void Open(FolderMessages.Open open)
    {
        _end = null;
        _index?.Dispose();
        _index = null;
        var folder = store.FindFolder(open.Folder);
        var access = folder?.AccessOf(peer.Id) ?? ShareAccess.None;
        _label = open.SubPath.Length == 0 ? open.Folder : $"{open.Folder}/{open.SubPath}";
        if (folder is null || access == ShareAccess.None)
        {
            // Same answer for "no such folder" and "not shared with you": a peer learns nothing of folders it may not see.
            throw new HaulException(ErrorCode.UnknownFolder, $"no folder '{open.Folder}' is shared with this node", $"ask the owner of that node to run 'haul folder add {open.Folder} PATH --share {peer.Name}:rw' (or :ro)");
        }

        if (open.Write && access != ShareAccess.ReadWrite)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"folder '{open.Folder}' is shared read-only with this node", $"ask its owner to run 'haul folder share {open.Folder} {peer.Name}:rw'");
        }

        if (!Directory.Exists(folder.Path))
        {
            throw new HaulException(ErrorCode.PathNotFound, $"folder '{open.Folder}' is missing on its node ({folder.Path})", "ask its owner to restore it or re-point it with 'haul folder add'");
        }

        _folderRoot = Path.GetFullPath(folder.Path);
        _target = open.SubPath.Length == 0 ? Path.GetFullPath(folder.Path) : Path.Combine(Path.GetFullPath(folder.Path), open.SubPath);
        RefuseLinks(folder.Path, open.SubPath);
        _write = open.Write;
        if (_write)
        {
            _writeTargets.Add(_target);
        }
        _index = TreeIndex.ForHome(home);
        _end = new LocalEnd(_target, _index);
    }

    private LocalEnd End => _end ?? throw new HaulException(ErrorCode.ProtocolError, "no folder is open", null);

    private void RequireWrite()
    {
        if (!_write)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"{_label} was opened read-only", "open it for writing");
        }
    }

    private async Task ListAsync(byte[] payload, CancellationToken ct)
    {
        var r = new SpanReader(payload);
        bool hashes = r.U8() != 0;
        r.End();
        var end = End;
        var batch = new List<SyncEntry>(FolderMessages.ListBatch);
        await foreach (var e in end.ListAsync(SyncFilter.Everything, ct).ConfigureAwait(false))
        {
            batch.Add(hashes ? e with { Sha256 = await end.HashAsync(e, reread: false, ct).ConfigureAwait(false) } : e);
            if (batch.Count == FolderMessages.ListBatch)
            {
                await ctl.SendAsync(FrameType.ListPart, FolderMessages.EncodeList(batch), ct).ConfigureAwait(false);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            await ctl.SendAsync(FrameType.ListPart, FolderMessages.EncodeList(batch), ct).ConfigureAwait(false);
        }

        _index?.Flush();
        await ctl.SendAsync(FrameType.ListEnd, ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
    }

    private async Task HashAsync(List<string> paths, CancellationToken ct)
    {
        var end = End;
        var hashes = new List<Hash256>(paths.Count);
        foreach (var p in paths)
        {
            RefuseLinks(_target, p);
            var fi = new FileInfo(Path.Combine(_target, p));
            if (!fi.Exists)
            {
                throw new HaulException(ErrorCode.PathNotFound, $"{_label}/{p} is gone", "run the sync again");
            }

            hashes.Add(await end.HashAsync(new SyncEntry(p, fi.Length, fi.LastWriteTimeUtc.Ticks), reread: false, ct).ConfigureAwait(false));
        }

        _index?.Flush();
        await ctl.SendAsync(FrameType.Hashes, FolderMessages.EncodeHashes(hashes), ct).ConfigureAwait(false);
    }

    private async Task RemoveAsync((FolderMessages.RemoveOp Op, string Backup, List<string> Paths) req, CancellationToken ct)
    {
        RequireWrite();
        var end = End;
        string backupRoot = string.Empty;
        if (req.Op == FolderMessages.RemoveOp.Rename)
        {
            for (int i = 0; i < req.Paths.Count; i += 2)
            {
                RefuseLinks(_target, req.Paths[i]);
                RefuseLinks(_target, req.Paths[i + 1]);
                string to = Path.Combine(_target, req.Paths[i + 1]);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Move(Path.Combine(_target, req.Paths[i]), to, overwrite: false);
                _index?.Forget(_target, req.Paths[i]);
            }

            await ctl.SendAsync(FrameType.Done, FolderMessages.EncodeDone(req.Paths.Count / 2), ct).ConfigureAwait(false);
            return;
        }

        if (req.Op == FolderMessages.RemoveOp.RemoveEmptyFolders)
        {
            foreach (var p in req.Paths)
            {
                RefuseLinks(_target, p);
            }

            // rmdir only: a folder with anything in it (or a link in its place) stays.
            var removed = await end.RemoveEmptyDirectoriesAsync(req.Paths, ct).ConfigureAwait(false);
            Log.FolderRemoved(log, peer.Name, _label, removed, req.Op.ToString());
            await ctl.SendAsync(FrameType.Done, FolderMessages.EncodeDone(removed), ct).ConfigureAwait(false);
            return;
        }

        if (req.Op != FolderMessages.RemoveOp.Delete)
        {
            // The backup folder is named relative to the folder's root, as rclone's --backup-dir is on the same remote.
            RefuseLinks(_folderRoot, req.Backup);
            backupRoot = Path.Combine(_folderRoot, req.Backup);
        }

        long done = 0;
        foreach (var p in req.Paths)
        {
            RefuseLinks(_target, p);
            var entry = new SyncEntry(p, 0, 0);
            switch (req.Op)
            {
                case FolderMessages.RemoveOp.Delete:
                    if (File.Exists(Path.Combine(_target, p)))
                    {
                        await end.DeleteAsync(entry, ct).ConfigureAwait(false);
                    }

                    break;
                case FolderMessages.RemoveOp.MoveToBackup:
                    await end.BackupAsync(entry, backupRoot, ct).ConfigureAwait(false);
                    break;
                default:
                    string src = Path.Combine(_target, p);
                    if (File.Exists(src))
                    {
                        string dst = Path.Combine(backupRoot, p);
                        Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                        File.Copy(src, dst, overwrite: true);
                        File.SetLastWriteTimeUtc(dst, File.GetLastWriteTimeUtc(src));
                    }

                    break;
            }

            done++;
        }

        Log.FolderRemoved(log, peer.Name, _label, done, req.Op.ToString());
        await ctl.SendAsync(FrameType.Done, FolderMessages.EncodeDone(done), ct).ConfigureAwait(false);
    }

    private async Task SetTimesAsync(List<(string Path, long MtimeTicks)> items, CancellationToken ct)
    {
        RequireWrite();
        var end = End;
        foreach (var (p, t) in items)
        {
            RefuseLinks(_target, p);
            await end.SetMtimeAsync(new SyncEntry(p, 0, 0), t, ct).ConfigureAwait(false);
        }

        _index?.Flush();
        await ctl.SendAsync(FrameType.Done, FolderMessages.EncodeDone(items.Count), ct).ConfigureAwait(false);
    }

    /// <summary>Sends the named files back to the peer as one transfer (the peer runs the receiving half).</summary>
    private async Task PullAsync(List<string> paths, CancellationToken ct)
    {
        _ = End;
        foreach (var p in paths)
        {
            RefuseLinks(_target, p);
        }

        using var slot = Take();
        var tree = await Task.Run(() => TreeScanner.ScanFiles(_target, paths, cancellationToken: ct, cache: chunks), ct).ConfigureAwait(false);
        var session = new SendSession(me, store, peer, new SendOptions { StallTimeout = stallTimeout }, null, log);
        var result = await session.RunAsync(ctl, remote, peerCertificate ?? throw new HaulException(ErrorCode.NotTrusted, "no peer certificate", null), tree, ct).ConfigureAwait(false);
        Log.FolderPulled(log, peer.Name, _label, result.Files, result.Bytes, result.ChunkBytesSent);
    }

    private IDisposable Take()
    {
        try
        {
            return slots.Take(peer.Id, send: true);
        }
        catch (HaulException ex)
        {
            Log.TransfersCapped(log, peer.Name, ex.Message);
            throw;
        }
    }

    /// <summary>Refuses a relative path whose existing parts include a symlink (it could lead out of the folder).</summary>
    private static void RefuseLinks(string root, string rel)
    {
        string cur = root;
        foreach (var part in rel.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            cur = Path.Combine(cur, part);
            var fi = new FileInfo(cur);
            if (fi.LinkTarget is not null)
            {
                throw new HaulException(ErrorCode.UnsafePath, $"refused '{rel}': '{part}' is a symlink on the folder's node", "folders are shared without following symlinks");
            }

            if (!fi.Exists && !Directory.Exists(cur))
            {
                return;
            }
        }
    }

    /// <summary>The peer ended cleanly (BYE, no transfer cut): partial folders its syncs left in the targets it wrote are dropped.</summary>
    public void EndedCleanly()
    {
        foreach (var t in _writeTargets)
        {
            ReceiveGuard.RemoveAbandonedPartials(t);
        }
    }

    public void Dispose() => _index?.Dispose();
}
