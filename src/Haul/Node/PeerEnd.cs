using System.Net;
using System.Runtime.CompilerServices;
using Haul.Content;
using Haul.Sync;
using Haul.Protocol;
using Haul.State;
using Haul.Transfer;
using Haul.Transport;
using Microsoft.Extensions.Logging;

namespace Haul.Node;

/// <summary>
/// A named folder on a trusted peer ("lab-b:datasets/training"). The owner enforces the share (read or
/// read-write) on every request. The listing streams over its own connection while requests (hashes,
/// pushes, pulls, removals) use a second, so comparing never waits for the listing. Files do not move one
/// by one: the runner hands over batches, and each batch is one Haul transfer (UDP, chunk-level delta
/// against the files already at the destination, verified, with a signed receipt).
/// </summary>
internal sealed class PeerEnd : IBatchedSyncEnd, IFolderEnd
{
    private readonly HaulNode _node;
    private readonly PeerRecord _peer;
    private readonly string _folder;
    private readonly string _sub;
    private readonly bool _write;
    private readonly SemaphoreSlim _opsLock = new(1, 1);
    private PeerConnection? _ops;
    private bool _exists;
    private bool _pushed;
    private bool _ownsNode;

    private PeerEnd(HaulNode node, PeerRecord peer, string folder, string sub, bool write, string display)
    {
        _node = node;
        _peer = peer;
        _folder = folder;
        _sub = sub;
        _write = write;
        Display = display;
    }

    public string Display { get; }

    public bool NeedsHashBeforeWrite => false;

    /// <summary>Ask the owner for every file's SHA-256 in the listing (check, --checksum), from its index where it can.</summary>
    public bool ListWithHashes { get; set; }

    /// <summary>Rate policy for pushes (the node's default unless the sync sets one).</summary>
    public Transfer.Congestion.RatePolicy? Rate { get; set; }

    /// <summary>Chunk bytes that crossed the wire in pushes (after the delta), for the summary.</summary>
    public long SentChunkBytes { get; private set; }

    /// <summary>Bytes the receiver already had (delta reuse) in pushes and pulls.</summary>
    public long ReusedBytes { get; private set; }

    /// <summary>Connects and opens the folder; the owner's refusal (unknown folder, read-only share) surfaces here.</summary>
    public static async Task<PeerEnd> OpenAsync(string home, string peerName, string path, bool write, string display, CancellationToken ct)
    {
        var node = HaulNode.Open(home);
        try
        {
            return await OpenAsync(node, peerName, path, write, display, ct, ownsNode: true).ConfigureAwait(false);
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The same on a node that is already open (a running node's API pull uses the node's own stores,
    /// not a second copy of them); <paramref name="ownsNode"/>: the end disposes it with itself.
    /// </summary>
    public static async Task<PeerEnd> OpenAsync(HaulNode node, string peerName, string path, bool write, string display, CancellationToken ct, bool ownsNode = false)
    {
        var peer = node.Store.FindPeer(peerName) ?? throw new HaulException(ErrorCode.UnknownPeer, $"unknown remote '{peerName}:' (no such peer, and not s3://)", "list peers with 'haul peer list'; write ./" + display + " for a local path with ':'");
        string p = path.Trim('/');
        if (p.Length == 0)
        {
            throw new HaulException(ErrorCode.Usage, $"'{display}' names no folder", $"write {peerName}:FOLDER or {peerName}:FOLDER/path (see 'haul folder list' on that node)");
        }

        int slash = p.IndexOf('/', StringComparison.Ordinal);
        string folder = slash < 0 ? p : p[..slash];
        string sub = slash < 0 ? string.Empty : p[(slash + 1)..];
        if (sub.Length > 0 && !PathSafety.IsSafeRelative(sub, out var why))
        {
            throw new HaulException(ErrorCode.UnsafePath, $"'{display}': {why}", "name a path inside the folder");
        }

        var end = new PeerEnd(node, peer, folder, sub, write, display) { _ownsNode = ownsNode };
        end._ops = await end.ConnectAsync(ct).ConfigureAwait(false);
        return end;
    }

    public Task<bool> ExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(_exists);

    public async IAsyncEnumerable<SyncEntry> ListAsync(SyncFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var conn = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await conn.Channel.SendAsync(FrameType.ListRequest, new WireWriter(1).U8(ListWithHashes ? (byte)1 : (byte)0), cancellationToken).ConfigureAwait(false);
        string lastDir = string.Empty;
        bool lastDirExcluded = false;
        while (true)
        {
            var f = await conn.Channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (f.Type == FrameType.ListEnd)
            {
                break;
            }

            if (f.Type != FrameType.ListPart)
            {
                ThrowHelper.Protocol($"unexpected {f.Type} in a listing");
            }

            foreach (var e in FolderMessages.DecodeList(f.Payload))
            {
                // The owner lists everything; the filter applies here exactly as a local walk applies it.
                int slash = e.Path.LastIndexOf('/');
                string dir = slash < 0 ? string.Empty : e.Path[..slash];
                if (dir != lastDir)
                {
                    lastDir = dir;
                    lastDirExcluded = AnyAncestorExcluded(filter, dir);
                }

                if (!lastDirExcluded && filter.Includes(e))
                {
                    yield return e;
                }
            }
        }
    }

    private static bool AnyAncestorExcluded(SyncFilter filter, string dir)
    {
        if (dir.Length == 0)
        {
            return false;
        }

        int i = 0;
        while (true)
        {
            int slash = dir.IndexOf('/', i);
            string prefix = slash < 0 ? dir : dir[..slash];
            if (filter.ExcludesDirectory(prefix))
            {
                return true;
            }

            if (slash < 0)
            {
                return false;
            }

            i = slash + 1;
        }
    }

    public Task<SyncEntry> ResolveAsync(SyncEntry entry, CancellationToken cancellationToken = default) => Task.FromResult(entry);

    public async Task<Hash256> HashAsync(SyncEntry entry, bool reread, CancellationToken cancellationToken = default)
    {
        if (entry.Sha256 is { } known)
        {
            return known;
        }

        var frame = await RequestAsync(FrameType.HashRequest, FolderMessages.EncodePaths([entry.Path]), FrameType.Hashes, cancellationToken).ConfigureAwait(false);
        return FolderMessages.DecodeHashes(frame.Payload, 1)[0];
    }

    public Task<Stream> OpenReadAsync(SyncEntry entry, CancellationToken cancellationToken = default) => throw Batched();

    public Task WriteAsync(SyncEntry entry, Stream content, Hash256? sha256, CancellationToken cancellationToken = default) => throw Batched();

    public Task SetMtimeAsync(SyncEntry entry, long mtimeTicks, CancellationToken cancellationToken = default) =>
        SetTimesAsync([(entry.Path, mtimeTicks)], cancellationToken);

    public Task DeleteAsync(SyncEntry entry, CancellationToken cancellationToken = default) =>
        RemoveAsync([entry.Path], null, copy: false, cancellationToken);

    public Task BackupAsync(SyncEntry entry, string backupRoot, CancellationToken cancellationToken = default) =>
        RemoveAsync([entry.Path], backupRoot, copy: false, cancellationToken);

    public async Task SetTimesAsync(IReadOnlyList<(string Path, long MtimeTicks)> items, CancellationToken ct)
    {
        for (int i = 0; i < items.Count; i += FolderMessages.RequestBatch)
        {
            var part = items.Skip(i).Take(FolderMessages.RequestBatch).ToList();
            await RequestAsync(FrameType.SetTimes, FolderMessages.EncodeTimes(part), FrameType.Done, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the files, or moves (copy: false) or copies them under <paramref name="backupDir"/>, a path in the same folder.</summary>
    public async Task RemoveAsync(IReadOnlyList<string> paths, string? backupDir, bool copy, CancellationToken ct)
    {
        var op = backupDir is null ? FolderMessages.RemoveOp.Delete : copy ? FolderMessages.RemoveOp.CopyToBackup : FolderMessages.RemoveOp.MoveToBackup;
        string backup = backupDir is null ? string.Empty : BackupSubPath(backupDir);
        for (int i = 0; i < paths.Count; i += FolderMessages.RequestBatch)
        {
            var part = paths.Skip(i).Take(FolderMessages.RequestBatch).ToList();
            await RequestAsync(FrameType.Remove, FolderMessages.EncodeRemove(op, backup, part), FrameType.Done, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks the owner to remove these folders if empty, deepest first, in batches (a batch boundary
    /// never splits a folder from its parent's turn: the parent comes later in the same order).
    /// </summary>
    public async Task<long> RemoveEmptyDirectoriesAsync(IReadOnlyList<string> deepestFirst, CancellationToken cancellationToken = default)
    {
        long removed = 0;
        for (int i = 0; i < deepestFirst.Count; i += FolderMessages.RequestBatch)
        {
            var part = deepestFirst.Skip(i).Take(FolderMessages.RequestBatch).ToList();
            var done = await RequestAsync(FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.RemoveEmptyFolders, string.Empty, part), FrameType.Done, cancellationToken).ConfigureAwait(false);
            removed += Math.Clamp(FolderMessages.DecodeDone(done.Payload), 0, part.Count);
        }

        return removed;
    }

    /// <summary>Renames files inside the folder (bisync's conflict copies); a target that exists is an error.</summary>
    public async Task RenameAsync(IReadOnlyList<(string From, string To)> moves, CancellationToken ct)
    {
        for (int i = 0; i < moves.Count; i += FolderMessages.RequestBatch / 2)
        {
            var part = moves.Skip(i).Take(FolderMessages.RequestBatch / 2).SelectMany(m => new[] { m.From, m.To }).ToList();
            await RequestAsync(FrameType.Remove, FolderMessages.EncodeRemove(FolderMessages.RemoveOp.Rename, string.Empty, part), FrameType.Done, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The name the peer goes by here, for conflict file names.</summary>
    public string OwnerName => _peer.Name;

    /// <summary>A stable identity for bisync's saved listings: the peer's node ID, folder and path.</summary>
    public string StateKey => $"peer:{_peer.Id.Canonical}/{_folder}/{_sub}";

    /// <summary>--backup-dir on a peer end: "peer:folder/path" on the same peer and folder (rclone wants the same remote too).</summary>
    public string BackupSubPath(string backupDir)
    {
        if (SyncEnds.IsPeer(backupDir, out string peer, out string path))
        {
            string p = path.Trim('/');
            int slash = p.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && (_node.Store.FindPeer(peer)?.Id ?? default) == _peer.Id && p[..slash] == _folder
                && PathSafety.IsSafeRelative(p[(slash + 1)..], out _))
            {
                return p[(slash + 1)..];
            }
        }

        throw new HaulException(ErrorCode.Usage, $"--backup-dir {backupDir} is not a path in the destination's folder {_peer.Name}:{_folder}", $"write it as {_peer.Name}:{_folder}/SOME-PATH");
    }

    /// <summary>Sends these files of <paramref name="from"/> as one transfer into this folder.</summary>
    /// <param name="reuseFrom">Files in this folder the receiver may take chunks from (the sync's pending deletions: renames and moves).</param>
    public async Task<SendResult> PushAsync(LocalEnd from, IReadOnlyList<SyncEntry> files, CancellationToken ct, IReadOnlyList<string>? reuseFrom = null)
    {
        DebugTrace.Mark($"push: {files.Count} files planned");
        var tree = await Task.Run(() => TreeScanner.ScanFiles(from.Root, files.Select(f => f.Path), cancellationToken: ct, cache: _node.ChunkCache, followLinks: from.FollowLinks), ct).ConfigureAwait(false);
        DebugTrace.Mark("push: scanned");
        await _opsLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (reuseFrom is { Count: > 0 })
            {
                await _ops!.Channel.SendAsync(FrameType.ReuseHint, FolderMessages.EncodePaths(reuseFrom.Take(MaxReuseHints).ToList()), ct).ConfigureAwait(false);
            }

            // A push into a folder the peer has is a delta: no session proposed with the OFFER (its
            // speculative data would mostly be content the peer already holds). Into a target that did
            // not exist, every file is new: the data starts with the OFFER, as a send's does, and the
            // receiver (which finds the target absent or empty) takes it.
            bool fresh = !_exists && !_pushed && reuseFrom is not { Count: > 0 };
            _pushed = true;
            var options = new SendOptions { Rate = Rate ?? _node.DefaultRatePolicy, ProposeSession = fresh };
            var session = new SendSession(_node.Identity, _node.Store, _peer, options, null, _node.Loggers.CreateLogger("haul.sync"));
            var result = await session.RunAsync(_ops!, tree, ct).ConfigureAwait(false);
            SentChunkBytes += result.ChunkBytesSent;
            ReusedBytes += result.ReusedBytes;
            return result;
        }
        finally
        {
            _opsLock.Release();
        }
    }

    /// <summary>Asks the owner to send these files; they land in <paramref name="into"/> through the receiving half of a transfer.</summary>
    /// <summary>Hinted files per push: the receiver reads each to find reusable chunks.</summary>
    private const int MaxReuseHints = 4096;

    public async Task PullAsync(LocalEnd into, IReadOnlyList<SyncEntry> files, CancellationToken ct, IReadOnlyList<string>? reuseFrom = null)
    {
        await _opsLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var log = _node.Loggers.CreateLogger("haul.sync");
            using var udp = new UdpEndpoint(new IPEndPoint(_ops!.Remote.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), log);
            await _ops.Channel.SendAsync(FrameType.Pull, FolderMessages.EncodePaths(files.Select(f => f.Path).ToList()), ct).ConfigureAwait(false);
            var offer = await _ops.Channel.ExpectAsync(FrameType.Offer, ct).ConfigureAwait(false);
            Directory.CreateDirectory(into.Root);
            var receiver = new ReceiveNode(_node.Store, _node.Identity, log) { Udp = udp, ChunkCache = _node.ChunkCache };
            var receive = new ReceiveOptions(into.Root) { ReuseUnnamed = false, ReuseFrom = reuseFrom?.Take(MaxReuseHints).Select(p => Path.Combine(into.Root, p)).ToList() ?? [] };
            var session = new ReceiveSession(_ops.Channel, _peer, receiver, receive)
            {
                Requested = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal),
            };
            await session.RunAsync(offer, ct).ConfigureAwait(false);
        }
        finally
        {
            _opsLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ops is not null)
        {
            try
            {
                await _ops.Channel.SendAsync(FrameType.Bye, ReadOnlyMemory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
            }
            catch (HaulException)
            {
            }

            await _ops.DisposeAsync().ConfigureAwait(false);
        }

        _opsLock.Dispose();
        if (_ownsNode)
        {
            _node.Dispose();
        }
    }

    private static HaulException Batched() =>
        new(ErrorCode.Usage, "a peer's folder syncs with a local folder only", "to move data between a peer and s3:// or another peer, sync through a local folder");

    private async Task<Frame> RequestAsync(FrameType type, WireWriter body, FrameType reply, CancellationToken ct)
    {
        await _opsLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _ops!.Channel.SendAsync(type, body, ct).ConfigureAwait(false);
            return await _ops.Channel.ExpectAsync(reply, ct).ConfigureAwait(false);
        }
        finally
        {
            _opsLock.Release();
        }
    }

    private async Task<PeerConnection> ConnectAsync(CancellationToken ct)
    {
        if (_peer.Address is null)
        {
            throw new HaulException(ErrorCode.PeerUnreachable, $"peer '{_peer.Name}' has no known address (it only dials in)", $"set one with 'haul peer add {_peer.Id} HOST:PORT --name {_peer.Name}'");
        }

        var conn = await PeerConnection.ConnectAsync(_node.Identity, _node.Name, _peer.Id, _peer.Address, join: false, TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
        try
        {
            await conn.Channel.SendAsync(FrameType.FolderOpen, new FolderMessages.Open(_folder, _sub, _write).Encode(), ct).ConfigureAwait(false);
            var ok = await conn.Channel.ExpectAsync(FrameType.FolderOk, ct).ConfigureAwait(false);
            _exists = ok.Payload.Length > 0 && ok.Payload[0] == 1;
            return conn;
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
