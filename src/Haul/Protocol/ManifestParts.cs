namespace Haul.Protocol;

/// <summary>
/// Collects an OFFER's MANIFEST_PART frames (u64 offset, then bytes) into the manifest's wire form.
/// The buffer grows with the parts that really arrive, doubling up to the length the OFFER stated
/// (already bounded by <see cref="Content.ManifestCodec.MaxEncodedLength"/>), so a peer that claims a
/// large manifest and sends little costs little. Parts must come in order, without gaps or overrun.
/// </summary>
internal sealed class ManifestParts(long bytesOnWire)
{
    private const int FirstBuffer = 1 << 20;
    private byte[] _buffer = new byte[(int)Math.Min(bytesOnWire, FirstBuffer)];
    private int _received;

    public bool IsComplete => _received == bytesOnWire;

    /// <summary>Adds one MANIFEST_PART payload; a part out of order, empty or past the end is a protocol error.</summary>
    public void Add(ReadOnlySpan<byte> payload)
    {
        var r = new SpanReader(payload);
        ulong offset = r.U64();
        var part = r.Bytes(r.Remaining);
        if (offset != (ulong)_received || part.Length == 0 || _received + (long)part.Length > bytesOnWire)
        {
            ThrowHelper.Protocol("manifest parts out of order");
        }

        long need = _received + (long)part.Length;
        if (need > _buffer.Length)
        {
            Array.Resize(ref _buffer, (int)Math.Min(bytesOnWire, Math.Max(need, _buffer.Length * 2L)));
        }

        part.CopyTo(_buffer.AsSpan(_received));
        _received += part.Length;
    }

    /// <summary>The whole wire form, once <see cref="IsComplete"/>.</summary>
    public byte[] Wire => IsComplete ? _buffer : throw new InvalidOperationException("the manifest is not complete");
}
