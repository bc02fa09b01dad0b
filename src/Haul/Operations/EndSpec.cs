using System.Text.RegularExpressions;

namespace Haul.Operations;

/// <summary>What an end of a sync is.</summary>
internal enum EndKind
{
    Local,
    Peer,
    S3,
}

/// <summary>
/// One end of a run as a user names it, parsed once with the rules rclone users expect:
/// "s3://bucket/prefix" is object storage, "name:folder/path" (a peer name, no leading '/' or '.') is a
/// folder a peer shares, anything else a local path. Requests carry the text (the JSON form); this is
/// what it means, checked before anything runs.
/// </summary>
internal sealed partial record EndSpec(EndKind Kind, string Text, string Peer, string Path, string Bucket, string Prefix)
{
    public static EndSpec Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new HaulException(ErrorCode.Usage, "an end is empty", "name it as a local path, peer:folder/path or s3://bucket/prefix");
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new HaulException(ErrorCode.Usage, "an end contains a NUL character", "name it as a local path, peer:folder/path or s3://bucket/prefix");
        }

        if (text.StartsWith("s3://", StringComparison.Ordinal))
        {
            string rest = text["s3://".Length..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            string bucket = slash < 0 ? rest : rest[..slash];
            string prefix = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
            if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
            {
                throw new HaulException(ErrorCode.Usage, $"'{Security.Printable.Of(bucket, 80)}' in {Security.Printable.Of(text, 200)} is not a bucket name", "bucket names are 3-63 lower-case letters, digits, '-' or '.'");
            }

            return new EndSpec(EndKind.S3, text, string.Empty, string.Empty, bucket, prefix);
        }

        var m = PeerForm().Match(text);
        if (m.Success && !text.StartsWith("s3:", StringComparison.Ordinal))
        {
            return new EndSpec(EndKind.Peer, text, m.Groups[1].Value, m.Groups[2].Value, string.Empty, string.Empty);
        }

        return new EndSpec(EndKind.Local, text, string.Empty, text, string.Empty, string.Empty);
    }

    [GeneratedRegex("^([A-Za-z0-9][A-Za-z0-9_-]{0,63}):(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex PeerForm();
}
