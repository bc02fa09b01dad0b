using System.CommandLine;
using Haul.Cli.Commands;
using Haul.Node;

namespace Haul.Cli;

/// <summary>Builds the command tree and maps failures to one line and a distinct exit code.</summary>
internal static class Cli
{
    public static readonly Option<string?> Home = new("--home")
    {
        Description = "Node directory (default: $HAUL_HOME, else ~/.haul)",
        Recursive = true,
    };

    /// <summary>The node home the command line names (--home, else $HAUL_HOME, else ~/.haul).</summary>
    public static string HomeOf(ParseResult pr) => HaulHome.Resolve(pr.GetValue(Home));

    /// <summary>Opens the node at the command line's home (a one-line error when it was never initialized).</summary>
    public static HaulNode OpenNode(ParseResult pr, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null) => HaulNode.Open(HomeOf(pr), loggers);

    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = BuildRoot().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors)
            {
                Console.Error.WriteLine($"error: {e.Message}; see 'haul --help'");
            }

            return (int)ErrorCode.Usage;
        }

        // System.CommandLine 2.0.0 leaves ProcessTerminationTimeout null (dotnet/command-line-api#2739), so
        // Ctrl-C killed the process outright: no "cancelled" line, a job run's history left open, temporary
        // files left behind. With a timeout the commands' token is cancelled and they wind down (serve's
        // transfers take up to 10 s).
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(10) }).ConfigureAwait(false);
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("haul: fast, verified, resumable data transfer between nodes");
        root.Options.Add(Home);
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(NodeCommands.Init());
        root.Subcommands.Add(NodeCommands.Id());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ApiCommands.Status());
        root.Subcommands.Add(ApiCommands.Transfers());
        root.Subcommands.Add(ApiCommands.Transfer());
        root.Subcommands.Add(ApiCommands.Token());
        root.Subcommands.Add(Mcp.McpCommand.Create());
        root.Subcommands.Add(PairingCommands.Invite());
        root.Subcommands.Add(PairingCommands.Join());
        root.Subcommands.Add(PeerCommands.Create());
        root.Subcommands.Add(FolderCommands.Create());
        root.Subcommands.Add(SendCommand.Create());
        root.Subcommands.Add(NodeCommands.Receipts());
        root.Subcommands.Add(NodeCommands.Policy());
        root.Subcommands.Add(SyncCommands.Sync());
        root.Subcommands.Add(SyncCommands.Copy());
        root.Subcommands.Add(SyncCommands.Check());
        root.Subcommands.Add(SyncCommands.Bisync());
        root.Subcommands.Add(JobCommands.Create());
        return root;
    }

    /// <summary>Runs a command body, turning a <see cref="HaulException"/> into one line on stderr and its exit code.</summary>
    public static async Task<int> Guard(Func<Task<int>> body, bool json = false)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (HaulException ex)
        {
            return Fail(ex, json);
        }
        catch (OperationCanceledException)
        {
            return Fail(new HaulException(ErrorCode.Cancelled, "cancelled", "run the same command again to resume"), json);
        }
        catch (UnauthorizedAccessException ex)
        {
            return Fail(new HaulException(ErrorCode.PermissionDenied, $"permission denied: {ex.Message}", "fix the permissions or use another --home"), json);
        }
        catch (IOException ex) when (IoErrors.IsDiskFull(ex))
        {
            return Fail(new HaulException(ErrorCode.DiskFull, "disk full", "free some space and run the command again"), json);
        }
    }

    public static int Fail(HaulException ex, bool json)
    {
        if (json)
        {
            Console.Out.WriteLine(Json.Line(("type", "error"), ("code", ex.Code.ToString()), ("exit", (int)ex.Code), ("message", ex.Message), ("hint", ex.Hint)));
        }

        Console.Error.WriteLine(ex.Hint is null ? $"error: {ex.Message}" : $"error: {ex.Message}; {ex.Hint}");
        return (int)ex.Code;
    }
}
