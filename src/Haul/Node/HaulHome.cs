namespace Haul.Node;

/// <summary>Where a node keeps its identity, database and inbox: --home, else HAUL_HOME, else ~/.haul.</summary>
internal static class HaulHome
{
    public static string Resolve(string? explicitHome)
    {
        string? home = explicitHome;
        if (string.IsNullOrWhiteSpace(home))
        {
            home = Environment.GetEnvironmentVariable("HAUL_HOME");
        }

        if (string.IsNullOrWhiteSpace(home))
        {
            home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".haul");
        }

        return Path.GetFullPath(home);
    }

    public static string DatabasePath(string home) => Path.Combine(home, "haul.db");

    public static string DefaultInbox(string home) => Path.Combine(home, "inbox");
}
