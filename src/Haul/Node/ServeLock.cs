using System.Text;

namespace Haul.Node;

/// <summary>
/// One serving node per home: `haul serve` (a <see cref="NodeHost"/>) holds an exclusive lock on
/// HAUL_HOME/serve.lock for its whole life (the runtime takes it with flock, so it is released when the
/// process ends, however it ends) and writes its PID and addresses beside it, in serve.info (a reader
/// cannot open the locked file). A second serve on the same
/// home would take over the API address file and run the same jobs twice; it is refused with the
/// first one's PID and addresses instead.
/// </summary>
internal sealed class ServeLock : IDisposable
{
    private readonly FileStream _file;
    private readonly string _info;

    private ServeLock(FileStream file, string info) => (_file, _info) = (file, info);

    public static string PathFor(string home) => Path.Combine(home, "serve.lock");

    public static ServeLock Acquire(string home)
    {
        string path = PathFor(home);
        try
        {
            var fs = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            var l = new ServeLock(fs, Path.Combine(home, "serve.info"));
            l.Write($"pid {Environment.ProcessId}");
            return l;
        }
        catch (IOException)
        {
            string who = ReadHolder(Path.Combine(home, "serve.info"));
            throw new HaulException(ErrorCode.NodeAlreadyRunning, $"a node is already serving {home} ({who})", "stop it first, or give this one its own home with --home DIR");
        }
    }

    /// <summary>Records what the running node serves (shown to a second serve that is refused).</summary>
    public void Write(string text)
    {
        try
        {
            string tmp = _info + ".tmp";
            File.WriteAllText(tmp, text + "\n");
            File.Move(tmp, _info, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a refused second serve reads it; the lock itself is what counts.
        }
    }

    public void Dispose() => _file.Dispose();

    private static string ReadHolder(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buf = new byte[512];
            int n = fs.Read(buf);
            string text = Security.Printable.Of(Encoding.UTF8.GetString(buf, 0, n).Trim(), 200);
            return text.Length == 0 ? "its PID is unknown" : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "its PID is unknown";
        }
    }
}
