using Haul.Operations;
using Haul.Sync;
using Haul.Transfer.Congestion;

namespace Haul.Cli.Commands;

/// <summary>
/// A haul command line as a typed request: how a job's command (haul job add NAME -- sync A B, or the
/// API's "command" list) becomes the spec the node runs, and how jobs saved as argument lists by older
/// versions are migrated. The verbs' own converters do the work, so a job means what the command means.
/// </summary>
internal static class CommandSpecs
{
    public static readonly string[] Verbs = ["sync", "copy", "check", "bisync", "send"];

    /// <summary>The request <paramref name="argv"/> names (e.g. ["sync", "/data/new", "s3://bucket/in", "--exclude", "*.tmp"]); send's rate flags apply on top of <paramref name="defaults"/>.</summary>
    public static TransferRequest FromArgv(IReadOnlyList<string> argv, RatePolicy defaults)
    {
        // A null element comes from JSON (the API's "command", or a damaged jobs row), never from a shell.
        if (argv.Any(a => a is null))
        {
            throw new HaulException(ErrorCode.Usage, "the job's command has a null element", "give every element of the command as a string");
        }

        if (argv.Count == 0 || !Verbs.Contains(argv[0]))
        {
            throw new HaulException(ErrorCode.Usage, $"a job runs one of {string.Join(", ", Verbs)}, not '{(argv.Count == 0 ? string.Empty : Security.Printable.Of(argv[0], 80))}'", "write the command after --, e.g. -- sync /data/new hub:incoming");
        }

        // A job runs as this node: '@FILE' (a response file, expanded by the parser) read local files
        // into the command and its error text (the API token came back in a 400's detail), and '--home'
        // would run it as another node.
        foreach (var a in argv)
        {
            if (a.StartsWith('@') || a == "--home" || a.StartsWith("--home=", StringComparison.Ordinal))
            {
                throw new HaulException(ErrorCode.Usage, $"a job's command may not contain '{(a.StartsWith('@') ? "@FILE" : "--home")}'", "write the arguments out; a job always runs as this node");
            }
        }

        var root = Cli.BuildRoot();
        var pr = root.Parse([.. argv], new System.CommandLine.ParserConfiguration { ResponseFileTokenReplacer = null });
        if (pr.Errors.Count > 0)
        {
            throw new HaulException(ErrorCode.Usage, $"the job's command does not parse: {Security.Printable.Of(pr.Errors[0].Message, 200)}", $"try it by hand first: haul {Security.Printable.Of(string.Join(' ', argv), 200)}");
        }

        return argv[0] switch
        {
            "sync" => TransferRequest.For(SyncCommands.ToRequest(pr, SyncMode.Sync)),
            "copy" => TransferRequest.For(SyncCommands.ToRequest(pr, SyncMode.Copy)),
            "check" => TransferRequest.For(SyncCommands.ToRequest(pr, SyncMode.Check)),
            "bisync" => TransferRequest.For(SyncCommands.ToBisyncRequest(pr)),
            _ => TransferRequest.For(SendCommand.ToRequest(pr, defaults)),
        };
    }
}
