using System.Buffers.Binary;
using System.Text;

namespace Haul.Protocol;

/// <summary>
/// Big-endian reader over untrusted bytes. Every read checks the remaining length first; a short or
/// malformed input throws <see cref="HaulException"/> with <see cref="ErrorCode.ProtocolError"/>, never
/// an index exception, and no length field is trusted before it is checked against what is left.
/// </summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public SpanReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public readonly int Remaining => _data.Length - _pos;

    public readonly int Position => _pos;

    public byte U8()
    {
        Need(1);
        return _data[_pos++];
    }

    public ushort U16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadUInt16BigEndian(_data[_pos..]);
        _pos += 2;
        return v;
    }

    public uint U32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadUInt32BigEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public ulong U64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadUInt64BigEndian(_data[_pos..]);
        _pos += 8;
        return v;
    }

    public long I64() => (long)U64();

    /// <summary>A u32 count, checked against what is left given that each item takes at least <paramref name="minItemSize"/> bytes.</summary>
    public int Count(int minItemSize, int max = int.MaxValue)
    {
        uint n = U32();
        if (n > (uint)max || (minItemSize > 0 && n > (uint)(Remaining / minItemSize)))
        {
            ThrowHelper.Protocol($"count {n} exceeds what the message can hold");
        }

        return (int)n;
    }

    public ReadOnlySpan<byte> Bytes(int length)
    {
        if (length < 0)
        {
            ThrowHelper.Protocol("negative length");
        }

        Need(length);
        var s = _data.Slice(_pos, length);
        _pos += length;
        return s;
    }

    /// <summary>A string with a u16 byte-length prefix, strictly UTF-8.</summary>
    public string String()
    {
        int len = U16();
        var bytes = Bytes(len);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return ThrowHelper.Protocol<string>("string is not valid UTF-8");
        }
    }

    public readonly void End()
    {
        if (Remaining != 0)
        {
            ThrowHelper.Protocol($"{Remaining} unexpected trailing bytes");
        }
    }

    private readonly void Need(int n)
    {
        if (n > _data.Length - _pos)
        {
            ThrowHelper.Protocol("message is truncated");
        }
    }

    private static readonly UTF8Encoding Strict = new(false, true);
}
