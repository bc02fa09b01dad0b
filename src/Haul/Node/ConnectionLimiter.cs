using System.Net;

namespace Haul.Node;

/// <summary>
/// Caps on the control port's concurrent connections: in total, and, until a connection is known to
/// come from a paired peer (TLS handshake, HELLO, or an unpaired JOIN), in total and per remote
/// address, so that one address cannot fill the port while paired peers still get in.
/// </summary>
internal sealed class ConnectionLimiter(int maxTotal, int maxUnauthenticated, int maxUnauthenticatedPerAddress)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _unauthenticatedFrom = [];
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

    private void Release(IPAddress remote, bool authenticated)
    {
        lock (_lock)
        {
            _total--;
            if (!authenticated)
            {
                LeaveUnauthenticated(remote);
            }
        }
    }

    private void Authenticate(IPAddress remote)
    {
        lock (_lock)
        {
            LeaveUnauthenticated(remote);
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
        private bool _authenticated;
        private bool _disposed;

        /// <summary>The connection is a paired peer's: it no longer counts against the unauthenticated caps.</summary>
        public void Authenticated()
        {
            if (!_authenticated && !_disposed)
            {
                _authenticated = true;
                owner.Authenticate(remote);
            }
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                owner.Release(remote, _authenticated);
            }
        }
    }
}
