using Haul.Content;
using Haul.Protocol;

namespace Haul.Transfer;

/// <summary>The disk path: the write loop (verify, write through the <see cref="TreePlacer"/>, journal, acknowledge).</summary>
internal sealed partial class ReceiveSession
{
    private TreePlacer? _placer; // the writer's temporary copies and their placement, from the plan on

    /// <summary>
    /// For tests: called with the destination root and each step whose order durability rests on
    /// ("complete N": file N's temporary copy is written; "sync"; "place N": renamed into place; "sign").
    /// </summary>
    internal static Action<string, string>? DurabilityProbe
    {
        get => TreePlacer.DurabilityProbe;
        set => TreePlacer.DurabilityProbe = value;
    }

    /// <summary>Files found in place by the plan or completed since: what CHUNK_DONE and ACCEPT report.</summary>
    private int FilesDone => _filesInPlace + (_placer?.Completed ?? 0);

    /// <summary>Writes a verified chunk to every open place it occurs and places the files it completes.</summary>
    private void MarkPlaced(int c, byte[] writeData)
    {
        _placer!.Write(c, writeData);
        _states.Set(c, ChunkState.Done);
    }

    private readonly Dictionary<int, int> _badCount = []; // failed verifications by chunk (writer only)

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        var pending = new List<int>();
        var reader = _toWriter.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    await WriteOneAsync(item, pending, ct).ConfigureAwait(false);
                    if (pending.Count >= 256)
                    {
                        await FlushDoneAsync(pending, ct).ConfigureAwait(false);
                    }
                }

                await FlushDoneAsync(pending, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            // Anything verified and written is journaled even when the transfer is cut short.
            _store.MarkChunksDone(_transferId, pending);
            while (reader.TryRead(out var left))
            {
                Release(left);
            }
        }
    }

    private async Task WriteOneAsync(CompletedChunk item, List<int> pending, CancellationToken ct)
    {
        try
        {
            var info = _manifest.Chunks[item.Chunk];
            bool good;

            // The disk is this node's own work, however slow (a write, a file's completion, a batch's syncfs):
            // the stall watch waits for it. Not around the sends: a sender that stops reading is stalled.
            using (_stall!.Pause())
            {
                good = Hash256.Of(item.Buffer.AsSpan(0, item.Length)) == info.Hash;
                if (good)
                {
                    MarkPlaced(item.Chunk, item.Buffer);
                }
            }

            if (!good)
            {
                // As the sender gives up on a chunk after three failures: otherwise a sender sending the same
                // wrong bytes again and again moves the transfer for the stall watch (new data) for ever.
                if ((_badCount[item.Chunk] = _badCount.GetValueOrDefault(item.Chunk) + 1) > 3)
                {
                    throw new HaulException(ErrorCode.CorruptData, $"chunk {item.Chunk} failed verification {_badCount[item.Chunk]} times", "the sender's data changed during the send or is being corrupted; run the send again");
                }

                Interlocked.Increment(ref _badChunks);
                _states.Set(item.Chunk, ChunkState.Needed);
                await _ctl.SendAsync(FrameType.ChunkBad, Messages.EncodeChunkIndex(item.Chunk), ct).ConfigureAwait(false);
                return;
            }

            CrashPoint.Reach("chunk-written");
            pending.Add(item.Chunk);
        }
        finally
        {
            Release(item);
        }

        if (_states.Written())
        {
            await FlushDoneAsync(pending, ct).ConfigureAwait(false);
            _allWritten.TrySetResult();
        }
    }

    private void Release(CompletedChunk item)
    {
        ReleaseAssembly(item.Buffer.Length); // a chunk from TCP was counted at its length too
        if (item.Pooled)
        {
            BufferPool.Chunks.Return(item.Buffer);
        }
    }

    /// <summary>Journals then acknowledges: a chunk the sender hears is done survives a crash of this node.</summary>
    private async Task FlushDoneAsync(List<int> pending, CancellationToken ct)
    {
        if (pending.Count == 0)
        {
            return;
        }

        using (_stall!.Pause())
        {
            _store.MarkChunksDone(_transferId, pending);
        }

        CrashPoint.Reach("chunk-journaled");
        foreach (var c in pending)
        {
            _acks.OnJournaled(c);
        }

        var msg = new Messages.ChunkDone([.. pending], FilesDone);
        pending.Clear();
        await _ctl.SendAsync(FrameType.ChunkDone, msg.Encode(), ct).ConfigureAwait(false);
    }
}
