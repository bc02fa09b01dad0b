using Haul.Operations;

namespace Haul.Tests.Operations;

/// <summary>Ends as users name them, parsed once with rclone's rules, for every surface.</summary>
[Trait("Category", "Unit")]
public sealed class EndSpecTests
{
    [Theory]
    [InlineData("/data/new", "Local", "", "/data/new", "", "")]
    [InlineData("./a:b", "Local", "", "./a:b", "", "")]
    [InlineData("relative/dir", "Local", "", "relative/dir", "", "")]
    [InlineData("lab-b:models/prod", "Peer", "lab-b", "models/prod", "", "")]
    [InlineData("hub:", "Peer", "hub", "", "", "")]
    [InlineData("s3://ml-bucket/incoming/day1/", "S3", "", "", "ml-bucket", "incoming/day1")]
    [InlineData("s3://ml-bucket", "S3", "", "", "ml-bucket", "")]
    public void AnEnd_IsWhatItsFormSays(string text, string kind, string peer, string path, string bucket, string prefix)
    {
        var e = EndSpec.Parse(text);
        Assert.Equal((kind, text, peer, path, bucket, prefix), (e.Kind.ToString(), e.Text, e.Peer, e.Path, e.Bucket, e.Prefix));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("s3://")]
    [InlineData("s3://UPPER/x")]
    [InlineData("s3://ab")]
    [InlineData("/data/\0/x")]
    public void ANonEnd_IsAUsageError(string? text)
    {
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => EndSpec.Parse(text)).Code);
    }

    [Fact]
    public void ARequest_ChecksItsEnds_BeforeAnythingRuns()
    {
        var bad = new SyncRequest(Haul.Sync.SyncMode.Sync, "/data", "s3://No_Such/x");
        Assert.Equal(ErrorCode.Usage, Assert.Throws<HaulException>(() => bad.ToOptions()).Code);
        Assert.Equal(EndKind.S3, new SyncRequest(Haul.Sync.SyncMode.Copy, "/a", "s3://bucket-1/p").DestEnd.Kind);
    }
}
