namespace Haul.Security;

/// <summary>
/// The one rule for a node's name: this node's own ('haul init') and every peer's, whether a user typed
/// it ('haul peer add --name', 'haul join --name', the REST API) or a peer sent it (HELLO, JOIN,
/// JOIN_OK). A peer's name becomes the folder its sends land in (INBOX/&lt;name&gt;/), so the rule
/// admits only what is one plain path component everywhere: 1 to 64 letters, digits, '-', '_' or '.',
/// starting with a letter or digit (so never "." or "..", never hidden, never an option), and never
/// something that reads as a node ID (a name is looked up where an ID is, and must not shadow one).
/// </summary>
internal static class NodeName
{
    public const int MaxLength = 64;

    public const string Rule = "use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit";

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !char.IsLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return !NodeId.TryParse(name, out _);
    }

    /// <summary>Returns <paramref name="name"/> if it is valid; otherwise a usage error naming <paramref name="what"/>.</summary>
    public static string Check(string? name, string what = "node name")
    {
        if (!IsValid(name))
        {
            throw new HaulException(ErrorCode.Usage, $"'{Printable(name)}' is not a usable {what}", Rule);
        }

        return name!;
    }

    /// <summary>The name a peer is filed under when the one it sent breaks the rule: "peer-" and the first group of its ID.</summary>
    public static string Fallback(NodeId id) => "peer-" + id.Short.ToLowerInvariant();

    /// <summary>A hostile name shortened and escaped (<see cref="Security.Printable"/>), fit for a log line or an error message.</summary>
    public static string Printable(string? name) => Security.Printable.Of(name, 80);
}
