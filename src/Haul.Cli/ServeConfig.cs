namespace Haul.Cli;

/// <summary>
/// The node's config file (haul serve --config FILE; by default HAUL_HOME/haul.conf if it exists):
/// "key = value" lines, '#' comments. Keys are the serve flags without dashes: listen, api,
/// api-allow-remote, inbox, no-udp, udp-advertise. A flag on the command line wins over the file.
/// </summary>
internal sealed class ServeConfig
{
    private static readonly HashSet<string> Keys = ["listen", "api", "api-allow-remote", "inbox", "no-udp", "udp-advertise"];
    private readonly Dictionary<string, string> _values;

    private ServeConfig(Dictionary<string, string> values) => _values = values;

    public static ServeConfig Empty { get; } = new([]);

    public static ServeConfig Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HaulException(ErrorCode.Usage, $"cannot read config {path}: {ex.Message}", "check the path and its permissions");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? line : line[..eq].Trim();
            if (eq < 0 || !Keys.Contains(key))
            {
                throw new HaulException(ErrorCode.Usage, $"{path} line {i + 1}: {(eq < 0 ? "not 'key = value'" : $"unknown key '{key}'")}", $"use one of: {string.Join(", ", Keys)}");
            }

            values[key] = line[(eq + 1)..].Trim();
        }

        return new ServeConfig(values);
    }

    public string? Get(string key) => _values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

    public bool Flag(string key) => Get(key) switch
    {
        null or "false" or "no" or "0" => false,
        "true" or "yes" or "1" => true,
        var v => throw new HaulException(ErrorCode.Usage, $"config: {key} = {v} is not true or false", $"write {key} = true"),
    };
}
