using System.Net;
using System.Text;
using Haul.Sync;
using Haul.Tests.Support;

namespace Haul.Tests.Sync;

/// <summary>Sync against a real S3-compatible server (s3rver), and what other tools read back.</summary>
[Collection("nodes")]
public sealed class S3SyncTests : IClassFixture<S3Server>
{
    private readonly S3Server _s3;

    public S3SyncTests(S3Server s3) => _s3 = s3;

    private async Task<(int Code, string Out, string Err)> Run(TempDir tmp, params string[] args) =>
        await HaulProcess.RunWithEnvAsync(_s3.Env, ["--home", tmp.Sub("home"), .. args, "--endpoint", _s3.Endpoint]);

    private (int Code, string Out, string Err) Rclone(params string[] args) =>
        S3Server.Run(_s3.Env, "rclone", ["--s3-provider", "Other", "--s3-endpoint", _s3.Endpoint, "--s3-access-key-id", "S3RVER", "--s3-secret-access-key", "S3RVER", .. args]);

    [Fact]
    public async Task Copy_ToS3_IsReadableByRclone_WithSizesTimesAndContent_IncludingMultipart()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("raw");
        Trees.WriteRandom(Path.Combine(src, "small.bin"), 10_000, 1);
        Trees.WriteRandom(Path.Combine(src, "shards", "big.bin"), 40_000_000, 2); // three 16 MiB parts
        File.SetLastWriteTimeUtc(Path.Combine(src, "small.bin"), new DateTime(2025, 3, 4, 5, 6, 7, 890, DateTimeKind.Utc));
        var r = await Run(tmp, "copy", src, $"s3://{S3Server.Bucket}/t1/raw");
        Assert.True(r.Code == 0, r.Err);

        var lsl = Rclone("lsl", $":s3:{S3Server.Bucket}/t1/raw");
        Assert.True(lsl.Code == 0, lsl.Err);
        Assert.Contains("    10000 2025-03-04 05:06:07.890000000 small.bin", lsl.Out, StringComparison.Ordinal);
        Assert.Contains("40000000", lsl.Out, StringComparison.Ordinal);

        var back = tmp.Sub("back");
        var copy = Rclone("copy", $":s3:{S3Server.Bucket}/t1/raw", back);
        Assert.True(copy.Code == 0, copy.Err);
        Trees.AssertSame(src, back);

        var again = await Run(tmp, "copy", src, $"s3://{S3Server.Bucket}/t1/raw", "--json");
        Assert.Contains("\"copied\":0", again.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await Run(tmp, "check", src, $"s3://{S3Server.Bucket}/t1/raw")).Code);
    }

    [Fact]
    public async Task Sync_FromS3_ToLocal_AndDeletesOnlyAfterSuccess()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("models");
        Trees.WriteRandom(Path.Combine(src, "v1", "weights.bin"), 3_000_000, 3);
        Trees.WriteRandom(Path.Combine(src, "v1", "config.json"), 500, 4);
        Assert.Equal(0, (await Run(tmp, "sync", src, $"s3://{S3Server.Bucket}/t2/models")).Code);

        string dst = tmp.Sub("edge");
        Trees.WriteRandom(Path.Combine(dst, "stale.bin"), 100, 5);
        var pull = await Run(tmp, "sync", $"s3://{S3Server.Bucket}/t2/models", dst);
        Assert.True(pull.Code == 0, pull.Err);
        Trees.AssertSame(src, dst);

        // Remove a file at the source and sync to S3 again: the object goes too.
        File.Delete(Path.Combine(src, "v1", "config.json"));
        Assert.Equal(0, (await Run(tmp, "sync", src, $"s3://{S3Server.Bucket}/t2/models")).Code);
        var ls = Rclone("lsf", "-R", $":s3:{S3Server.Bucket}/t2/models");
        Assert.Equal(["v1/", "v1/weights.bin"], ls.Out.Trim().Split('\n').Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task FilesFrom_AndSizeOnly_WorkBothWaysWithS3()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("src"), remote = $"s3://{S3Server.Bucket}/t9/flags";
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 1000, 1);
        Trees.WriteRandom(Path.Combine(src, "b.bin"), 1000, 2);
        Trees.WriteRandom(Path.Combine(src, "deep", "c.bin"), 1000, 3);
        File.WriteAllLines(tmp.Sub("list"), ["a.bin", "deep/c.bin"]);

        var up = await Run(tmp, "copy", src, remote, "--files-from", tmp.Sub("list"));
        Assert.True(up.Code == 0, up.Err);
        var ls = Rclone("lsf", "-R", "--files-only", $":s3:{S3Server.Bucket}/t9/flags");
        Assert.Equal(["a.bin", "deep/c.bin"], ls.Out.Trim().Split('\n').Order(StringComparer.Ordinal));

        // Same size, new content and time: --size-only leaves the object alone; without it, it is copied.
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 1000, 4);
        File.SetLastWriteTimeUtc(Path.Combine(src, "a.bin"), new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        var sizeOnly = await Run(tmp, "copy", src, remote, "--files-from", tmp.Sub("list"), "--size-only", "--json");
        Assert.True(sizeOnly.Code == 0, sizeOnly.Err);
        Assert.Equal(0, SyncCli.Summary(sizeOnly.Out).GetProperty("copied").GetInt64());
        Assert.Equal(0, SyncCli.Summary(sizeOnly.Out).GetProperty("touched").GetInt64());
        var full = await Run(tmp, "copy", src, remote, "--files-from", tmp.Sub("list"), "--json");
        Assert.Equal(1, SyncCli.Summary(full.Out).GetProperty("copied").GetInt64());

        // And from S3: only the listed object comes down.
        File.WriteAllLines(tmp.Sub("one"), ["deep/c.bin"]);
        var down = await Run(tmp, "sync", remote, tmp.Sub("down"), "--files-from", tmp.Sub("one"));
        Assert.True(down.Code == 0, down.Err);
        Assert.Equal(["deep/c.bin"], SyncCli.Files(tmp.Sub("down")));
        Assert.True(Trees.SameBytes(Path.Combine(src, "deep", "c.bin"), tmp.Sub("down/deep/c.bin")));
    }

    [Fact]
    public async Task MissingBucket_IsAClearError_AndNothingIsDeleted()
    {
        using var tmp = new TempDir();
        string src = tmp.Sub("x");
        Trees.WriteRandom(Path.Combine(src, "a.bin"), 100, 1);
        var r = await Run(tmp, "sync", src, "s3://no-such-bucket/data");
        Assert.Equal((int)ErrorCode.ObjectStore, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("bucket 'no-such-bucket' does not exist", r.Err, StringComparison.Ordinal);

        // And pulling from it into a folder leaves the folder alone.
        var pull = await Run(tmp, "sync", "s3://no-such-bucket/data", src);
        Assert.Equal((int)ErrorCode.ObjectStore, pull.Code);
        Assert.True(File.Exists(Path.Combine(src, "a.bin")));

        var empty = await Run(tmp, "sync", $"s3://{S3Server.Bucket}/nothing-here", src);
        Assert.Equal((int)ErrorCode.PathNotFound, empty.Code);
        Assert.True(File.Exists(Path.Combine(src, "a.bin")), "a mistyped empty source must not empty the destination");
    }

    /// <summary>
    /// s3rver accepts any signature, so refused credentials are tested against a stand-in that answers
    /// every request as S3 does for a bad key: the near side's mapping to one clear error and exit code.
    /// </summary>
    [Fact]
    public async Task RefusedCredentials_AreAClearError_WithoutTheSecret()
    {
        using var tmp = new TempDir();
        using var standIn = new S3ErrorStandIn(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
        int port = standIn.Port;

        Trees.WriteRandom(tmp.Sub("src/a.bin"), 100, 1);
        var env = new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "AKIAWRONG", ["AWS_SECRET_ACCESS_KEY"] = "super-secret-value" };
        var r = await HaulProcess.RunWithEnvAsync(env, "--home", tmp.Sub("home"), "copy", tmp.Sub("src"), "s3://ml-bucket/x", "--endpoint", $"http://127.0.0.1:{port}");
        Assert.Equal((int)ErrorCode.ObjectStore, r.Code);
        Assert.Contains("refused the credentials", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("super-secret-value", r.Err + r.Out, StringComparison.Ordinal);

        var noProfile = await HaulProcess.RunWithEnvAsync(new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = null, ["AWS_SECRET_ACCESS_KEY"] = null, ["HOME"] = tmp.Path }, "--home", tmp.Sub("home"), "copy", tmp.Sub("src"), "s3://ml-bucket/x", "--endpoint", $"http://127.0.0.1:{port}", "--profile", "nope");
        Assert.Equal((int)ErrorCode.Usage, noProfile.Code);
        Assert.Contains("AWS profile 'nope' not found", noProfile.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void MtimeMetadata_RoundTripsInRcloneFormat()
    {
        long ticks = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc).Ticks + 1234567;
        Assert.Equal("1741064767.123456700", S3End.FormatMtime(ticks));
        Assert.Equal(ticks, S3End.ParseMtime(S3End.FormatMtime(ticks)));
        Assert.Equal(new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc).Ticks, S3End.ParseMtime("2025-03-04T05:06:07Z"));
        Assert.Null(S3End.ParseMtime("soon"));
    }
}
