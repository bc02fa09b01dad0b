using Haul.Tests.Support;

namespace Haul.Tests.Sync;

/// <summary>
/// Whoever can write a bucket chooses its keys: a key like "prefix/../../x" must not put a file outside
/// the local destination of 'haul copy/sync s3://bucket/prefix DIR'. The keys are put verbatim into a
/// real S3 server (moto_server without signatures: s3rver keeps keys as paths on its disk, so it cannot
/// hold a ".." or "//" component) and listed by it as any store would. What s3rver can hold (a last
/// component "..", a backslash, a folder marker with data) is also tried against it, so the rule is
/// exercised where moto_server is not installed.
/// </summary>
[Collection("nodes")]
public sealed class S3HostileKeyTests : IClassFixture<S3Server>
{
    private readonly S3Server _s3rver;

    public S3HostileKeyTests(S3Server s3rver) => _s3rver = s3rver;

    /// <summary>Keys (under the prefix "t/") that must each be refused with one line naming them.</summary>
    private static readonly string[] Hostile =
    [
        "t/../../escaped-up2.txt",
        "t/sub/../../../escaped-up3.txt",
        "t/..",
        "t/a//b.txt",
        "t/./dot.txt",
        "t/sub/.",
        "t/back\\..\\..\\slash.txt",
        "t/" + new string('n', 300) + ".txt",
        "t/marker-with-data/",
    ];

    [MotoFact]
    public async Task Copy_FromS3_SkipsKeysThatWouldLeaveTheDestination_WritesTheRest_AndFails()
    {
        using var moto = MotoServer.WithoutSignatures();
        using var tmp = new TempDir();
        PutAll(moto);
        string dst = Path.Combine(tmp.Path, "outer", "dest");

        var r = await Run(moto, tmp, "copy", $"s3://{MotoServer.Bucket}/t", dst);

        Assert.True(r.Code == (int)ErrorCode.SyncIncomplete, $"exit {r.Code}: {r.Err}");
        Assert.Equal(["outer/dest/good.bin", "outer/dest/sub/good2.bin"], FilesOutsideHome(tmp));
        Assert.Equal("good", File.ReadAllText(Path.Combine(dst, "good.bin")));
        AssertOneRefusalPerKey(r.Err);
    }

    [MotoFact]
    public async Task Sync_FromS3_WithHostileKeys_DeletesNothing()
    {
        using var moto = MotoServer.WithoutSignatures();
        using var tmp = new TempDir();
        PutAll(moto);
        string dst = Path.Combine(tmp.Path, "outer", "dest");
        Directory.CreateDirectory(dst);
        File.WriteAllText(Path.Combine(dst, "stale.bin"), "only here");

        var r = await Run(moto, tmp, "sync", $"s3://{MotoServer.Bucket}/t", dst);

        Assert.True(r.Code == (int)ErrorCode.SyncIncomplete, $"exit {r.Code}: {r.Err}");
        Assert.Equal(["outer/dest/good.bin", "outer/dest/stale.bin", "outer/dest/sub/good2.bin"], FilesOutsideHome(tmp));
        Assert.Contains("not deleting 1 files", r.Err, StringComparison.Ordinal);
        AssertOneRefusalPerKey(r.Err);
    }

    /// <summary>A name that passes the rule can still lead out through a symlinked folder in the destination: refused, nothing written through it.</summary>
    [MotoFact]
    public async Task Copy_FromS3_DoesNotWriteThroughASymlinkedFolderInTheDestination()
    {
        using var moto = MotoServer.WithoutSignatures();
        using var tmp = new TempDir();
        moto.PutRaw(MotoServer.Bucket, "t/good.bin", "good"u8.ToArray());
        moto.PutRaw(MotoServer.Bucket, "t/link/planted.txt", "evil"u8.ToArray());
        string outside = tmp.Sub("outside");
        Directory.CreateDirectory(outside);
        string dst = tmp.Sub("dest");
        Directory.CreateDirectory(dst);
        File.CreateSymbolicLink(Path.Combine(dst, "link"), outside);

        var r = await Run(moto, tmp, "copy", $"s3://{MotoServer.Bucket}/t", dst);

        Assert.True(r.Code == (int)ErrorCode.SyncIncomplete, $"exit {r.Code}: {r.Err}");
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.True(File.Exists(Path.Combine(dst, "good.bin")));
        Assert.Contains("'link' is a symlink", r.Err, StringComparison.Ordinal);
    }

    /// <summary>
    /// s3rver keeps an object as a file named KEY._S3rver_object under its folder: a key whose last
    /// component is ".." is a file "..._S3rver_object" there, made by renaming a normal object's files.
    /// </summary>
    [Fact]
    public async Task Sync_FromS3rver_RefusesDotDotBackslashAndMarkerKeys_DeletesNothing()
    {
        using var tmp = new TempDir();
        string bucketDir = Path.Combine(_s3rver.DataDir, S3Server.Bucket);
        foreach (var (key, body) in new[] { ("h/good.bin", "good"), ("h/sub/up", "evil"), ("h/back\\..\\x.txt", "evil"), ("h/marker/", "evil") })
        {
            RawHttp.Send(_s3rver.Port, "PUT", RawHttp.ObjectPath(S3Server.Bucket, key), System.Text.Encoding.UTF8.GetBytes(body), "application/octet-stream");
        }

        foreach (var f in Directory.GetFiles(Path.Combine(bucketDir, "h", "sub"), "up._S3rver_*"))
        {
            File.Move(f, Path.Combine(bucketDir, "h", "sub", ".." + Path.GetFileName(f)["up".Length..]));
        }

        string dst = Path.Combine(tmp.Path, "outer", "dest");
        Directory.CreateDirectory(dst);
        File.WriteAllText(Path.Combine(dst, "stale.bin"), "only here");
        var r = await HaulProcess.RunWithEnvAsync(_s3rver.Env, "--home", tmp.Sub("home"), "sync", $"s3://{S3Server.Bucket}/h", dst, "--endpoint", _s3rver.Endpoint);

        Assert.True(r.Code == (int)ErrorCode.SyncIncomplete, $"exit {r.Code}: {r.Err}");
        Assert.Equal(["outer/dest/good.bin", "outer/dest/stale.bin"], FilesOutsideHome(tmp));
        var refused = r.Err.Split('\n').Where(l => l.Contains(" refused ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, refused.Count);
        Assert.Contains(refused, l => l.Contains(" refused  sub/..: ", StringComparison.Ordinal));
        Assert.Contains(refused, l => l.Contains(" refused  back\\..\\x.txt: ", StringComparison.Ordinal));
        Assert.Contains(refused, l => l.Contains(" refused  marker/: ", StringComparison.Ordinal));
    }

    private static void PutAll(MotoServer moto)
    {
        moto.PutRaw(MotoServer.Bucket, "t/good.bin", "good"u8.ToArray());
        moto.PutRaw(MotoServer.Bucket, "t/sub/good2.bin", "good2"u8.ToArray());
        moto.PutRaw(MotoServer.Bucket, "t/empty-marker/", []);
        foreach (var k in Hostile)
        {
            moto.PutRaw(MotoServer.Bucket, k, "evil"u8.ToArray());
        }
    }

    private static void AssertOneRefusalPerKey(string err)
    {
        var refused = err.Split('\n').Where(l => l.Contains(" refused ", StringComparison.Ordinal)).ToList();
        Assert.True(refused.Count == Hostile.Length, err);
        foreach (var k in Hostile)
        {
            string shown = Haul.Sync.ListingGuard.Printable(k["t/".Length..]);
            Assert.Single(refused, l => l.Contains(" refused  " + shown + ": ", StringComparison.Ordinal));
        }
    }

    private static List<string> FilesOutsideHome(TempDir tmp) =>
        SyncCli.Files(tmp.Path).Where(f => !f.StartsWith("home/", StringComparison.Ordinal)).ToList();

    private static async Task<(int Code, string Out, string Err)> Run(MotoServer moto, TempDir tmp, params string[] args) =>
        await HaulProcess.RunWithEnvAsync(MotoServer.Credentials("any", "any", null), ["--home", tmp.Sub("home"), .. args, "--endpoint", moto.Endpoint]);
}
