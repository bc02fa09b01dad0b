using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;
using Haul.Content;

namespace Haul.Sync;

/// <summary>
/// A prefix in an S3-compatible bucket (AWS, MinIO, Ceph, s3rver) through AWSSDK.S3. Objects stay plain
/// files any tool can read: the key is prefix + path, the file's mtime goes in the "mtime" metadata as
/// rclone writes it (seconds with a fraction), its SHA-256 in "sha256". Listings stream page by page.
/// Large files go up as multipart uploads, parts in parallel, each with its Content-MD5 so the store
/// verifies it; a failed upload is aborted, so no partial object ever appears. What Haul learns of an
/// object's metadata is kept in the tree index against its size and ETag, so a re-sync needs no HEAD.
/// </summary>
internal sealed class S3End : ISyncEnd
{
    private const int PartSize = 16 * 1024 * 1024;
    private const int PartsInFlight = 4;
    private readonly AmazonS3Client _s3;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly string _indexRoot;
    private readonly ITreeIndex? _index;

    private S3End(AmazonS3Client s3, string bucket, string prefix, string display, string indexRoot, ITreeIndex? index)
    {
        (_s3, _bucket, _prefix, Display, _indexRoot, _index) = (s3, bucket, prefix, display, indexRoot, index);
    }

    public string Display { get; }

    public bool NeedsHashBeforeWrite => true;

    public static S3End Open(string spec, S3Config config, ITreeIndex? index = null)
    {
        string rest = spec["s3://".Length..];
        int slash = rest.IndexOf('/');
        string bucket = slash < 0 ? rest : rest[..slash];
        string prefix = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.'))
        {
            throw new HaulException(ErrorCode.Usage, $"'{bucket}' in {spec} is not a bucket name", "bucket names are 3-63 lower-case letters, digits, '-' or '.'");
        }

        var cfg = new AmazonS3Config
        {
            // Only the checksums the API requires: some S3-compatible stores do not speak the newer trailers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 4,
        };
        string region = config.Region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1";
        string? endpoint = config.Endpoint ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        if (endpoint is not null)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            {
                throw new HaulException(ErrorCode.Usage, $"--endpoint '{endpoint}' is not an http(s) URL", "write it like http://127.0.0.1:9000");
            }

            cfg.ServiceURL = endpoint;
            cfg.ForcePathStyle = true;
            cfg.AuthenticationRegion = region;
        }
        else
        {
            cfg.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        var client = Credentials(config) is { } creds ? new AmazonS3Client(creds, cfg) : new AmazonS3Client(cfg);
        return new S3End(client, bucket, prefix, spec, $"s3://{endpoint ?? region}/{bucket}/{prefix}", index);
    }

    public async Task<bool> ExistsAsync(CancellationToken cancellationToken = default)
    {
        // A source must have something under it: a mistyped prefix must not look like an empty tree.
        var r = await Call(() => _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = KeyPrefix, MaxKeys = 1 }, cancellationToken)).ConfigureAwait(false);
        return r.KeyCount > 0;
    }

    /// <summary>
    /// Lists the prefix page by page. S3 returns keys in UTF-8 byte order, which is the merge order, and
    /// then pages are handed on as they come and nothing is held. A store that does not (s3rver walks its
    /// folders instead, and its delimiter listings drop prefixes) shows it on the first page; its whole
    /// listing is then gathered and sorted first (memory grows with it, for such stores only). A key out
    /// of order after the first page stops the run with an error rather than mis-merge.
    /// </summary>
    public async IAsyncEnumerable<SyncEntry> ListAsync(SyncFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var req = new ListObjectsV2Request { BucketName = _bucket, Prefix = KeyPrefix, MaxKeys = 1000 };
        var pending = new List<SyncEntry>();
        bool sorted = true;
        bool firstPage = true;
        string? last = null;
        while (true)
        {
            var page = await Call(() => _s3.ListObjectsV2Async(req, cancellationToken)).ConfigureAwait(false);
            foreach (var o in page.S3Objects ?? [])
            {
                if (o.Key is null || !o.Key.StartsWith(KeyPrefix, StringComparison.Ordinal))
                {
                    throw new HaulException(ErrorCode.ObjectStore, $"the store behind {Display} listed a key outside the prefix '{KeyPrefix}'", "this store does not answer listings correctly; nothing was deleted");
                }

                string path = o.Key[KeyPrefix.Length..];
                if (path.Length == 0 || (path.EndsWith('/') && (o.Size ?? 0) == 0))
                {
                    continue; // empty folder markers some tools create; one with content is listed, and refused by the runner
                }

                if (last is not null && string.CompareOrdinal(last, path) > 0)
                {
                    if (sorted && !firstPage)
                    {
                        throw new HaulException(ErrorCode.ObjectStore, $"the store behind {Display} lists keys out of order", "this store is not S3-compatible enough to sync with; report it");
                    }

                    sorted = false;
                }

                last = path;
                long size = o.Size ?? 0;
                var entry = new SyncEntry(path, size, (o.LastModified ?? DateTime.UnixEpoch).ToUniversalTime().Ticks) { ETag = o.ETag, Resolved = false };
                if (_index?.LookupObject(_indexRoot, path, size, o.ETag ?? string.Empty) is { } known)
                {
                    entry = entry with { MtimeTicks = known.MtimeTicks, Sha256 = known.Sha256, Resolved = true };
                }

                if (filter.Includes(entry))
                {
                    pending.Add(entry);
                }
            }

            if (sorted)
            {
                // In order so far: hand this page on and hold nothing.
                foreach (var e in pending)
                {
                    yield return e;
                }

                pending.Clear();
            }

            firstPage = false;
            if (page.IsTruncated != true)
            {
                break;
            }

            req.ContinuationToken = page.NextContinuationToken;
        }

        pending.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var e in pending)
        {
            yield return e;
        }
    }

    public async Task<SyncEntry> ResolveAsync(SyncEntry entry, CancellationToken cancellationToken = default)
    {
        if (entry.Resolved)
        {
            return entry;
        }

        var head = await Call(() => _s3.GetObjectMetadataAsync(_bucket, Key(entry.Path), cancellationToken)).ConfigureAwait(false);
        var resolved = entry with { Resolved = true };
        if (ParseMtime(head.Metadata["mtime"]) is { } ticks)
        {
            resolved = resolved with { MtimeTicks = ticks };
        }

        if (ParseHash(head.Metadata["sha256"]) is { } h)
        {
            resolved = resolved with { Sha256 = h };
            _index?.StoreObject(_indexRoot, entry.Path, entry.Size, head.ETag ?? string.Empty, resolved.MtimeTicks, h);
        }

        return resolved;
    }

    public async Task<Hash256> HashAsync(SyncEntry entry, bool reread, CancellationToken cancellationToken = default)
    {
        if (!reread)
        {
            var r = await ResolveAsync(entry, cancellationToken).ConfigureAwait(false);
            if (r.Sha256 is { } known)
            {
                return known;
            }
        }

        using var obj = await Call(() => _s3.GetObjectAsync(_bucket, Key(entry.Path), cancellationToken)).ConfigureAwait(false);
        return Hash256.Read(await SHA256.HashDataAsync(obj.ResponseStream, cancellationToken).ConfigureAwait(false));
    }

    public async Task<Stream> OpenReadAsync(SyncEntry entry, CancellationToken cancellationToken = default)
    {
        var obj = await Call(() => _s3.GetObjectAsync(_bucket, Key(entry.Path), cancellationToken)).ConfigureAwait(false);
        return new OwnedStream(obj.ResponseStream, obj);
    }

    public async Task WriteAsync(SyncEntry entry, Stream content, Hash256? sha256, CancellationToken cancellationToken = default)
    {
        string key = Key(entry.Path);
        string mtime = FormatMtime(entry.MtimeTicks);
        string hash = (sha256 ?? throw new ArgumentException("S3 writes need the SHA-256 first", nameof(sha256))).ToHex();
        string etag;
        if (entry.Size <= PartSize)
        {
            byte[] buf = ArrayPool<byte>.Shared.Rent((int)Math.Max(entry.Size, 1));
            try
            {
                int n = await ReadFull(content, buf.AsMemory(0, (int)entry.Size), cancellationToken).ConfigureAwait(false);
                var put = new PutObjectRequest { BucketName = _bucket, Key = key, InputStream = new MemoryStream(buf, 0, n, writable: false), MD5Digest = Md5(buf.AsSpan(0, n)), AutoCloseStream = true, UseChunkEncoding = false };
                put.Metadata["mtime"] = mtime;
                put.Metadata["sha256"] = hash;
                etag = (await Call(() => _s3.PutObjectAsync(put, cancellationToken)).ConfigureAwait(false)).ETag;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buf);
            }
        }
        else
        {
            etag = await MultipartAsync(key, entry.Size, content, mtime, hash, cancellationToken).ConfigureAwait(false);
        }

        _index?.StoreObject(_indexRoot, entry.Path, entry.Size, etag ?? string.Empty, entry.MtimeTicks, sha256.Value);
    }

    public async Task SetMtimeAsync(SyncEntry entry, long mtimeTicks, CancellationToken cancellationToken = default)
    {
        var r = await ResolveAsync(entry, cancellationToken).ConfigureAwait(false);
        var copy = new CopyObjectRequest { SourceBucket = _bucket, SourceKey = Key(entry.Path), DestinationBucket = _bucket, DestinationKey = Key(entry.Path), MetadataDirective = S3MetadataDirective.REPLACE };
        copy.Metadata["mtime"] = FormatMtime(mtimeTicks);
        if (r.Sha256 is { } h)
        {
            copy.Metadata["sha256"] = h.ToHex();
        }

        var resp = await Call(() => _s3.CopyObjectAsync(copy, cancellationToken)).ConfigureAwait(false);
        if (r.Sha256 is { } known)
        {
            _index?.StoreObject(_indexRoot, entry.Path, entry.Size, resp.ETag ?? string.Empty, mtimeTicks, known);
        }
    }

    public async Task DeleteAsync(SyncEntry entry, CancellationToken cancellationToken = default)
    {
        await Call(() => _s3.DeleteObjectAsync(_bucket, Key(entry.Path), cancellationToken)).ConfigureAwait(false);
        _index?.Forget(_indexRoot, entry.Path);
    }

    public async Task BackupAsync(SyncEntry entry, string backupRoot, CancellationToken cancellationToken = default)
    {
        if (!backupRoot.StartsWith($"s3://{_bucket}/", StringComparison.Ordinal))
        {
            throw new HaulException(ErrorCode.Usage, $"--backup-dir {backupRoot} must be in the destination's bucket (s3://{_bucket}/...)", "name a prefix in the same bucket");
        }

        string target = backupRoot[$"s3://{_bucket}/".Length..].Trim('/') + "/" + entry.Path;
        await Call(() => _s3.CopyObjectAsync(new CopyObjectRequest { SourceBucket = _bucket, SourceKey = Key(entry.Path), DestinationBucket = _bucket, DestinationKey = target }, cancellationToken)).ConfigureAwait(false);
        await DeleteAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _s3.Dispose();
        return ValueTask.CompletedTask;
    }

    internal static string FormatMtime(long ticks)
    {
        long since = ticks - DateTime.UnixEpoch.Ticks;
        long secs = Math.DivRem(since, TimeSpan.TicksPerSecond, out long frac);
        if (frac < 0)
        {
            secs--;
            frac += TimeSpan.TicksPerSecond;
        }

        return $"{secs.ToString(CultureInfo.InvariantCulture)}.{(frac * 100).ToString("D9", CultureInfo.InvariantCulture)}";
    }

    /// <summary>rclone's "mtime" metadata: decimal seconds since 1970 (or RFC 3339, which some tools write).</summary>
    internal static long? ParseMtime(string? s)
    {
        if (string.IsNullOrEmpty(s))
        {
            return null;
        }

        int dot = s.IndexOf('.');
        string whole = dot < 0 ? s : s[..dot];
        if (long.TryParse(whole, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long secs))
        {
            // Whoever writes the bucket writes this: a time no file can have (before year 1 or after
            // 9999) is ignored, not multiplied into an overflow that DateTime later throws on.
            if (secs < (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond || secs >= (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond)
            {
                return null;
            }

            long frac = 0;
            if (dot >= 0)
            {
                string f = (s[(dot + 1)..] + "0000000")[..7];
                if (!long.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out frac))
                {
                    return null;
                }
            }

            return DateTime.UnixEpoch.Ticks + (secs * TimeSpan.TicksPerSecond) + frac;
        }

        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto) ? dto.UtcTicks : null;
    }

    private static Hash256? ParseHash(string? hex)
    {
        if (hex is null || hex.Length != 64)
        {
            return null;
        }

        try
        {
            return Hash256.Read(Convert.FromHexString(hex));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static AWSCredentials? Credentials(S3Config c)
    {
        string? key = c.AccessKey ?? Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        string? secret = c.SecretKey ?? Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (key is not null && secret is not null)
        {
            string? token = Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN");
            return token is null ? new BasicAWSCredentials(key, secret) : new SessionAWSCredentials(key, secret, token);
        }

        string? profile = c.Profile ?? Environment.GetEnvironmentVariable("AWS_PROFILE");
        if (profile is not null)
        {
            if (!new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out var creds))
            {
                throw new HaulException(ErrorCode.Usage, $"AWS profile '{profile}' not found", "check ~/.aws/credentials, or pass AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
            }

            return creds;
        }

        return null;
    }

    private static string Md5(ReadOnlySpan<byte> data) => Convert.ToBase64String(MD5.HashData(data));

    private static async Task<int> ReadFull(Stream s, Memory<byte> buf, CancellationToken ct)
    {
        int n = 0;
        while (n < buf.Length)
        {
            int r = await s.ReadAsync(buf[n..], ct).ConfigureAwait(false);
            if (r == 0)
            {
                break;
            }

            n += r;
        }

        return n;
    }

    private string KeyPrefix => _prefix.Length == 0 ? string.Empty : _prefix + "/";

    private string Key(string path) => KeyPrefix + path;

    private async Task<string> MultipartAsync(string key, long size, Stream content, string mtime, string hash, CancellationToken ct)
    {
        var init = new InitiateMultipartUploadRequest { BucketName = _bucket, Key = key };
        init.Metadata["mtime"] = mtime;
        init.Metadata["sha256"] = hash;
        string uploadId = (await Call(() => _s3.InitiateMultipartUploadAsync(init, ct)).ConfigureAwait(false)).UploadId;
        var parts = new List<PartETag>();
        var inFlight = new List<Task<PartETag>>();
        try
        {
            long left = size;
            for (int number = 1; left > 0; number++)
            {
                int len = (int)Math.Min(PartSize, left);
                byte[] buf = ArrayPool<byte>.Shared.Rent(len);
                int n = await ReadFull(content, buf.AsMemory(0, len), ct).ConfigureAwait(false);
                if (n != len)
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    throw new HaulException(ErrorCode.CorruptData, $"{key}: the source ended early", "the source changed during the sync; run it again");
                }

                left -= len;
                inFlight.Add(UploadPartAsync(key, uploadId, number, buf, len, ct));
                if (inFlight.Count >= PartsInFlight)
                {
                    var done = await Task.WhenAny(inFlight).ConfigureAwait(false);
                    inFlight.Remove(done);
                    parts.Add(await done.ConfigureAwait(false));
                }
            }

            foreach (var t in inFlight)
            {
                parts.Add(await t.ConfigureAwait(false));
            }

            parts.Sort((a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));
            var done2 = await Call(() => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId, PartETags = parts }, ct)).ConfigureAwait(false);
            return done2.ETag;
        }
        catch
        {
            try
            {
                await Task.WhenAll(inFlight).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already failing; the abort below cleans up whatever was uploaded.
            }

            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = key, UploadId = uploadId }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int number, byte[] buf, int len, CancellationToken ct)
    {
        try
        {
            var r = await Call(() => _s3.UploadPartAsync(new UploadPartRequest { BucketName = _bucket, Key = key, UploadId = uploadId, PartNumber = number, InputStream = new MemoryStream(buf, 0, len, writable: false), MD5Digest = Md5(buf.AsSpan(0, len)), UseChunkEncoding = false }, ct)).ConfigureAwait(false);
            return new PartETag(number, r.ETag);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    /// <summary>Maps the store's refusals to one clear error each.</summary>
    private async Task<T> Call<T>(Func<Task<T>> op)
    {
        try
        {
            return await op().ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            throw new HaulException(ErrorCode.ObjectStore, $"bucket '{_bucket}' does not exist", "create it first (aws s3 mb s3://" + _bucket + "), or check the name and --endpoint", e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized || e.ErrorCode is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" or "InvalidToken" or "ExpiredToken" or "TokenRefreshRequired")
        {
            throw new HaulException(ErrorCode.ObjectStore, $"the store refused the credentials for bucket '{_bucket}' ({e.ErrorCode})", "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (a session token expires), --profile and the bucket policy", e);
        }
        catch (AmazonS3Exception e)
        {
            throw new HaulException(ErrorCode.ObjectStore, $"object store error on bucket '{_bucket}': {e.ErrorCode} {e.Message}", "check --endpoint and the store's logs", e);
        }
        catch (AmazonServiceException e)
        {
            throw new HaulException(ErrorCode.ObjectStore, $"cannot reach the object store: {e.Message}", "check --endpoint, the network, and the credentials", e);
        }
        catch (HttpRequestException e)
        {
            throw new HaulException(ErrorCode.ObjectStore, $"cannot reach the object store: {e.Message}", "check --endpoint and that the store is running", e);
        }
    }

    /// <summary>A response stream that disposes its response with it.</summary>
    private sealed class OwnedStream(Stream inner, IDisposable owner) : ReadThroughStream(inner)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Inner.ReadAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => Inner.Read(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                owner.Dispose();
            }
        }
    }
}
