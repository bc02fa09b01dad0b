namespace Haul;

/// <summary>
/// The one exception root for failures a user can hit. <see cref="Code"/> decides the CLI's exit code
/// and <see cref="Hint"/> says what to do about it.
/// </summary>
public sealed class HaulException : Exception
{
    public HaulException(ErrorCode code, string message, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Hint = hint;
    }

    public ErrorCode Code { get; }

    public string? Hint { get; }
}
