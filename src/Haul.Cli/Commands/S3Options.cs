using System.CommandLine;
using Haul.Sync;

namespace Haul.Cli.Commands;

/// <summary>Flags for s3:// ends. Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile, never from flags, so they stay out of shell history and process lists.</summary>
internal static class S3Options
{
    public static readonly Option<string?> Endpoint = new("--endpoint") { Description = "S3-compatible endpoint URL, e.g. http://127.0.0.1:9000 (default: AWS; or $AWS_ENDPOINT_URL)" };
    public static readonly Option<string?> Region = new("--region") { Description = "S3 region (default: $AWS_REGION, else us-east-1)" };
    public static readonly Option<string?> Profile = new("--profile") { Description = "Profile in ~/.aws/credentials (default: $AWS_PROFILE)" };

    public static S3Config From(ParseResult pr) => new(pr.GetValue(Endpoint), pr.GetValue(Region), pr.GetValue(Profile), null, null);
}
