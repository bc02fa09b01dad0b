using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Haul.Transfer;

/// <summary>
/// The receiver's writer: the temporary copy of each file being received (named by its ordinal in the
/// plan, under the transfer's partial directory), created at full length on its first write, and a
/// verified chunk's bytes written at every place the plan has for it. Reports the files a chunk
/// completed; the session finalizes and places them.
/// </summary>
/// <remarks>One writer at a time (the planning thread, then the write loop). Disposing closes the open handles.</remarks>
internal sealed class TempFiles(string directory, ReceivePlan plan) : IDisposable
{
    private readonly Dictionary<int, SafeFileHandle> _open = [];
    private readonly List<int> _completed = [];

    public string PathOf(int file) => Path.Combine(directory, file.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Chunk <paramref name="chunk"/> is verified: its bytes (null: already in the temporary copies) go
    /// to each of its places in a file not <paramref name="inPlace"/>. An all-zero chunk is not written:
    /// the file was created at full length, so it is a hole there already and sparse files stay sparse.
    /// Returns the files this chunk completed, in plan order (valid until the next call).
    /// </summary>
    public IReadOnlyList<int> Write(int chunk, byte[]? data, bool[] inPlace)
    {
        _completed.Clear();
        int len = plan.Manifest.Chunks[chunk].Length;
        bool zero = data is not null && data.AsSpan(0, len).IndexOfAnyExcept((byte)0) < 0;
        for (int s = plan.LocationStart[chunk]; s < plan.LocationStart[chunk + 1]; s++)
        {
            int f = plan.LocationFile[s];
            if (inPlace[f])
            {
                continue;
            }

            if (data is not null)
            {
                var h = Open(f);
                if (!zero)
                {
                    RandomAccess.Write(h, data.AsSpan(0, len), plan.LocationOffset[s]);
                }
            }

            if (--plan.FileRemaining[f] == 0)
            {
                _completed.Add(f);
            }
        }

        return _completed;
    }

    /// <summary>The handle of a completed file's copy, the caller's to close: the cached one, or opened (a file whose chunks were all here already).</summary>
    public SafeFileHandle Take(int file) =>
        _open.Remove(file, out var h) ? h : File.OpenHandle(PathOf(file), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);

    public void Dispose()
    {
        foreach (var h in _open.Values)
        {
            h.Dispose();
        }

        _open.Clear();
    }

    private SafeFileHandle Open(int file)
    {
        if (!_open.TryGetValue(file, out var h))
        {
            h = File.OpenHandle(PathOf(file), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            long size = plan.File(file).Size;
            if (RandomAccess.GetLength(h) != size)
            {
                RandomAccess.SetLength(h, size);
            }

            _open[file] = h;
        }

        return h;
    }
}
