using System.Runtime.CompilerServices;
using Haul.Content;

namespace Haul.Transfer;

/// <summary>
/// The receiver's plan for each chunk of the manifest, and the one place it moves: NotNeeded (here
/// already), or Needed → Assembling (UDP pieces arriving) → Complete (whole, queued for the writer)
/// → Done (verified and written). A chunk that fails verification goes back to Needed; CHUNK_DATA over
/// TCP takes a Needed or Assembling chunk straight to Complete.
/// </summary>
/// <remarks>
/// Shared by three threads: the UDP receive thread, the control channel's reader (CHUNK_DATA) and the
/// writer. Each move out of Needed or Assembling is a compare-and-swap (<see cref="TryMove"/>), so only one
/// of them takes a chunk; the planning before the data (<see cref="Set"/> to NotNeeded, <see cref="CountNeeded"/>)
/// runs before any of them starts.
/// </remarks>
internal sealed class ChunkStates
{
    private readonly ChunkState[] _states;
    private int _remaining;

    /// <summary>Every chunk Needed until the plan says otherwise.</summary>
    public ChunkStates(int count)
    {
        _states = new ChunkState[count];
        Array.Fill(_states, ChunkState.Needed);
    }

    public int Count => _states.Length;

    /// <summary>Needed chunks not yet written (counted by <see cref="CountNeeded"/>, lowered by <see cref="Written"/>).</summary>
    public int Remaining => Volatile.Read(ref _remaining);

    public ChunkState this[int chunk] => (ChunkState)Volatile.Read(ref Ref(chunk));

    public void Set(int chunk, ChunkState state) => Volatile.Write(ref Ref(chunk), (byte)state);

    /// <summary>Moves <paramref name="chunk"/> from <paramref name="from"/> to <paramref name="to"/>; false when another thread moved it first.</summary>
    public bool TryMove(int chunk, ChunkState from, ChunkState to) =>
        Interlocked.CompareExchange(ref Ref(chunk), (byte)to, (byte)from) == (byte)from;

    public bool Any(ChunkState state) => _states.AsSpan().Contains(state);

    /// <summary>
    /// The plan made: counts the chunks still Needed (what <see cref="Remaining"/> starts from) and their
    /// bytes, and lists them as runs of consecutive chunks (ACCEPT's need list).
    /// </summary>
    public (List<(int First, int Count)> Runs, long Bytes) CountNeeded(ChunkInfo[] chunks)
    {
        var runs = new List<(int First, int Count)>();
        long bytes = 0;
        int needed = 0;
        for (int c = 0; c < _states.Length; c++)
        {
            if (_states[c] != ChunkState.Needed)
            {
                continue;
            }

            needed++;
            bytes += chunks[c].Length;
            if (runs.Count > 0 && runs[^1].First + runs[^1].Count == c)
            {
                runs[^1] = (runs[^1].First, runs[^1].Count + 1);
            }
            else
            {
                runs.Add((c, 1));
            }
        }

        Volatile.Write(ref _remaining, needed);
        return (runs, bytes);
    }

    /// <summary>A needed chunk is written. Returns true for the last one.</summary>
    public bool Written() => Interlocked.Decrement(ref _remaining) == 0;

    private ref byte Ref(int chunk) => ref Unsafe.As<ChunkState, byte>(ref _states[chunk]);
}
