using System.Security.Cryptography;

namespace Haul.Sync;

/// <summary>Reads through, hashing every byte with SHA-256 and counting them.</summary>
internal sealed class HashingStream(Stream inner, Action<int>? onRead = null) : ReadThroughStream(inner)
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesRead { get; private set; }

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public Content.Hash256 Hash() => Content.Hash256.Read(_sha.GetCurrentHash());

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _sha.AppendData(buffer.Span[..n]);
        BytesRead += n;
        onRead?.Invoke(n);
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Inner.Read(buffer, offset, count);
        _sha.AppendData(buffer, offset, n);
        BytesRead += n;
        onRead?.Invoke(n);
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha.Dispose();
        }

        base.Dispose(disposing);
    }
}
