using Haul.Security;

namespace Haul.Node;

/// <summary>
/// Transfers one peer may have running on this node at once: receives (its sends and pushes) and sends
/// (the pulls it asks this node to serve). Memory is bounded by <see cref="Haul.Transfer.MemoryBudget"/>;
/// this bounds the rest a transfer holds (a journal row, a partial folder, file handles, a reader and
/// a sender thread) and keeps one peer from starving the others of the node's disk and CPU.
/// A sync runs one transfer at a time, so the caps leave room for several jobs of one peer.
/// </summary>
internal sealed class TransferSlots(int receivesPerPeer, int sendsPerPeer)
{
    private readonly Dictionary<(NodeId Peer, bool Send), int> _running = [];

    public int ReceivesPerPeer => receivesPerPeer;

    public int SendsPerPeer => sendsPerPeer;

    /// <summary>A slot for one transfer with <paramref name="peer"/>, held until disposed; a <see cref="HaulException"/> (27) when its are all taken.</summary>
    public IDisposable Take(NodeId peer, bool send)
    {
        int cap = send ? sendsPerPeer : receivesPerPeer;
        lock (_running)
        {
            int n = _running.GetValueOrDefault((peer, send));
            if (n >= cap)
            {
                throw new HaulException(
                    ErrorCode.TransferBusy,
                    send ? $"the node already serves {cap} pulls to this node at once" : $"the node already receives {cap} transfers from this node at once",
                    "wait for one to finish, then run the command again (run fewer at once)");
            }

            _running[(peer, send)] = n + 1;
        }

        return new Slot(this, (peer, send));
    }

    /// <summary>Transfers running with <paramref name="peer"/> (tests).</summary>
    public int Running(NodeId peer, bool send)
    {
        lock (_running)
        {
            return _running.GetValueOrDefault((peer, send));
        }
    }

    private void Release((NodeId, bool) key)
    {
        lock (_running)
        {
            if (--_running[key] == 0)
            {
                _running.Remove(key);
            }
        }
    }

    private sealed class Slot(TransferSlots owner, (NodeId, bool) key) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(key);
            }
        }
    }
}
