namespace Haul.Sync;

/// <summary>How to reach an S3-compatible store; unset values come from the AWS environment and profiles.</summary>
internal sealed record S3Config(string? Endpoint, string? Region, string? Profile, string? AccessKey, string? SecretKey);
