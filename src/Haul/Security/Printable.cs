using System.Globalization;
using System.Text;

namespace Haul.Security;

/// <summary>
/// Text that came from elsewhere (a peer's name, a listed key, a path on disk) made safe to print on one
/// line: control characters become <c>\xHH</c>, and format characters (bidirectional overrides that
/// reorder what a terminal shows) and lone surrogates become <c>\uHHHH</c>; long text is cut with its
/// length said. The one helper for logs, refusals and sync logs.
/// </summary>
internal static class Printable
{
    public static string Of(string? text, int maxShown = 4096)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (text.Length <= maxShown && IsClean(text))
        {
            return text;
        }

        var shown = text.Length > maxShown ? text.AsSpan(0, maxShown) : text.AsSpan();
        var sb = new StringBuilder(shown.Length + 16);
        for (int i = 0; i < shown.Length; i++)
        {
            char c = shown[i];
            if (char.IsControl(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else if (char.IsHighSurrogate(c) && i + 1 < shown.Length && char.IsLowSurrogate(shown[i + 1]))
            {
                sb.Append(c).Append(shown[++i]);
            }
            else if (char.IsSurrogate(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        if (text.Length > maxShown)
        {
            sb.Append(CultureInfo.InvariantCulture, $"... ({text.Length} characters)");
        }

        return sb.ToString();
    }

    private static bool IsClean(string text)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c) || char.IsSurrogate(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                return false;
            }
        }

        return true;
    }
}
