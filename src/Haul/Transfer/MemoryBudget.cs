using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Haul.Security;

namespace Haul.Transfer;

/// <summary>
/// Bytes of chunk buffers that the transfers of one process hold, per peer and in total. A peer may hold
/// 32 connections, each with a transfer that never completes a chunk: bounded per transfer only, five such
/// receives grew a node by 758 MB, and a read-only peer's unfinished pulls held an owner's send windows
/// the same way. Take and return are O(1) (counters, no scan of the sessions), so the packet path can ask.
/// </summary>
internal sealed class MemoryBudget(long nodeLimit, long peerLimit)
{
    private readonly ConcurrentDictionary<NodeId, StrongBox<long>> _peers = new();
    private long _held;

    /// <summary>Chunk buffers being assembled by receiving sessions.</summary>
    public static MemoryBudget Receiving { get; } = new(ReceiveSession.NodeAssemblyBudget, ReceiveSession.PeerAssemblyBudget);

    /// <summary>Chunk buffers in the send windows of sending sessions (a node serving pulls holds these for peers).</summary>
    public static MemoryBudget Sending { get; } = new(ReceiveSession.NodeAssemblyBudget, ReceiveSession.PeerAssemblyBudget);

    public long NodeLimit => nodeLimit;

    public long PeerLimit => peerLimit;

    /// <summary>Bytes held by every account, now.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Bytes held by <paramref name="peer"/>'s accounts, now.</summary>
    public long HeldBy(NodeId peer) => _peers.TryGetValue(peer, out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>An account for one session of <paramref name="peer"/>; disposing it returns what it still holds.</summary>
    public Account Open(NodeId peer) => new(this, _peers.GetOrAdd(peer, _ => new StrongBox<long>()));

    private bool TryTake(StrongBox<long> peer, long bytes)
    {
        if (Interlocked.Add(ref _held, bytes) > nodeLimit)
        {
            Interlocked.Add(ref _held, -bytes);
            return false;
        }

        if (Interlocked.Add(ref peer.Value, bytes) > peerLimit)
        {
            Interlocked.Add(ref peer.Value, -bytes);
            Interlocked.Add(ref _held, -bytes);
            return false;
        }

        return true;
    }

    private void Return(StrongBox<long> peer, long bytes)
    {
        Interlocked.Add(ref peer.Value, -bytes);
        Interlocked.Add(ref _held, -bytes);
    }

    /// <summary>One session's share. Thread-safe; a return after disposal is ignored (the bytes went back then).</summary>
    internal sealed class Account(MemoryBudget owner, StrongBox<long> peer) : IDisposable
    {
        private readonly Lock _lock = new();
        private long _held;
        private bool _closed;

        /// <summary>Bytes this account holds.</summary>
        public long Held => Interlocked.Read(ref _held);

        /// <summary>Takes <paramref name="bytes"/> if this account stays within <paramref name="ownLimit"/> and the peer and node within theirs.</summary>
        public bool TryTake(long bytes, long ownLimit = long.MaxValue)
        {
            lock (_lock)
            {
                if (_closed || _held + bytes > ownLimit || !owner.TryTake(peer, bytes))
                {
                    return false;
                }

                _held += bytes;
                return true;
            }
        }

        /// <summary>Takes <paramref name="bytes"/> whatever the limits (for bytes that replace others this account is about to return).</summary>
        public void Take(long bytes)
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return;
                }

                _held += bytes;
                Interlocked.Add(ref owner._held, bytes);
                Interlocked.Add(ref peer.Value, bytes);
            }
        }

        public void Return(long bytes)
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return;
                }

                bytes = Math.Min(bytes, _held);
                _held -= bytes;
                owner.Return(peer, bytes);
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return;
                }

                _closed = true;
                owner.Return(peer, _held);
                _held = 0;
            }
        }
    }
}
