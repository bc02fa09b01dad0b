using System.Net;

namespace Haul.Node;

/// <summary>
/// Caps on the control port's concurrent connections: in total, and, until a connection is known to
/// come from a paired peer (TLS handshake, HELLO, or an unpaired JOIN), in total and per remote
/// address, so that one address cannot fill the port while paired peers still get in; and per paired
/// peer, so that one peer cannot take every place from the others.
/// </summary>
internal sealed class ConnectionLimiter(int maxTotal, int maxUnauthenticated, int maxUnauthenticatedPerAddress, int maxPerPeer)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _unauthenticatedFrom = [];
    private readonly Dictionary<string, int> _fromPeer = new(StringComparer.Ordinal);
    private int _total;
    private int _unauthenticated;

    /// <summary>Admits a new connection from <paramref name="remote"/> as unauthenticated, or returns null and why not.</summary>
    public Lease? TryAdmit(IPAddress remote, out string? refusal)
    {
        remote = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        lock (_lock)
        {
            _unauthenticatedFrom.TryGetValue(remote, out int fromThere);
            refusal = _total >= maxTotal ? $"{maxTotal} connections open (the limit)"
                : _unauthenticated >= maxUnauthenticated ? $"{maxUnauthenticated} connections not yet authenticated (the limit)"
                : fromThere >= maxUnauthenticatedPerAddress ? $"{maxUnauthenticatedPerAddress} connections from {remote} not yet authenticated (the limit per address)"
                : null;
            if (refusal is not null)
            {
                return null;
            }

            _total++;
            _unauthenticated++;
            _unauthenticatedFrom[remote] = fromThere + 1;
        }

        return new Lease(this, remote);
    }

    private void Release(IPAddress remote, string? peer)
    {
        lock (_lock)
        {
            _total--;
            if (peer is null)
            {
                LeaveUnauthenticated(remote);
            }
            else if (--_fromPeer[peer] == 0)
            {
                _fromPeer.Remove(peer);
            }
        }
    }

    private string? Authenticate(IPAddress remote, string peer)
    {
        lock (_lock)
        {
            _fromPeer.TryGetValue(peer, out int open);
            if (open >= maxPerPeer)
            {
                return $"{maxPerPeer} connections from this peer open (the limit per peer)";
            }

            _fromPeer[peer] = open + 1;
            LeaveUnauthenticated(remote);
            return null;
        }
    }

    private void LeaveUnauthenticated(IPAddress remote)
    {
        _unauthenticated--;
        if (--_unauthenticatedFrom[remote] == 0)
        {
            _unauthenticatedFrom.Remove(remote);
        }
    }

    /// <summary>One admitted connection; disposing it frees its place.</summary>
    internal sealed class Lease(ConnectionLimiter owner, IPAddress remote) : IDisposable
    {
        private string? _peer;
        private bool _disposed;

        /// <summary>
        /// The connection is paired peer <paramref name="peer"/>'s: it leaves the unauthenticated counts and
        /// counts against that peer's; false (and why) if the peer already holds its limit.
        /// </summary>
        public bool TryAuthenticate(string peer, out string? refusal)
        {
            refusal = null;
            if (_peer is not null || _disposed)
            {
                return _peer == peer;
            }

            refusal = owner.Authenticate(remote, peer);
            if (refusal is null)
            {
                _peer = peer;
            }

            return refusal is null;
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                owner.Release(remote, _peer);
            }
        }
    }
}
