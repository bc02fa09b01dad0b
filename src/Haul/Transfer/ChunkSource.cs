using Haul.Content;
using Microsoft.Win32.SafeHandles;

namespace Haul.Transfer;

/// <summary>Reads chunk bytes from the sender's files, keeping the most recent file open.</summary>
internal sealed class ChunkSource : IDisposable
{
    private readonly ChunkLocation[] _locations;
    private string? _openPath;
    private SafeFileHandle? _handle;

    public ChunkSource(ChunkLocation[] locations) => _locations = locations;

    public void Read(int chunk, Span<byte> into)
    {
        var loc = _locations[chunk];
        try
        {
            if (_openPath != loc.FilePath)
            {
                _handle?.Dispose();
                _handle = File.OpenHandle(loc.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                _openPath = loc.FilePath;
            }

            int got = 0;
            while (got < into.Length)
            {
                int n = RandomAccess.Read(_handle!, into[got..], loc.Offset + got);
                if (n == 0)
                {
                    throw new HaulException(ErrorCode.CorruptData, $"'{loc.FilePath}' changed while it was being sent", "run the send again when the file is no longer being written");
                }

                got += n;
            }
        }
        catch (FileNotFoundException ex)
        {
            throw new HaulException(ErrorCode.PathNotFound, $"'{loc.FilePath}' disappeared while it was being sent", "run the send again", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new HaulException(ErrorCode.PermissionDenied, $"permission denied reading '{loc.FilePath}'", "fix the permissions and send again", ex);
        }
    }

    public void Dispose() => _handle?.Dispose();
}
