using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Haul.Protocol;

/// <summary>Big-endian writer into a growable buffer, the counterpart of <see cref="SpanReader"/>.</summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buf;

    public WireWriter(int initialCapacity = 256) => _buf = new ArrayBufferWriter<byte>(initialCapacity);

    public int Length => _buf.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buf.WrittenSpan;

    public ReadOnlyMemory<byte> WrittenMemory => _buf.WrittenMemory;

    public WireWriter U8(byte v)
    {
        _buf.GetSpan(1)[0] = v;
        _buf.Advance(1);
        return this;
    }

    public WireWriter U16(ushort v)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buf.GetSpan(2), v);
        _buf.Advance(2);
        return this;
    }

    public WireWriter U32(uint v)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buf.GetSpan(4), v);
        _buf.Advance(4);
        return this;
    }

    public WireWriter U64(ulong v)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buf.GetSpan(8), v);
        _buf.Advance(8);
        return this;
    }

    public WireWriter I64(long v) => U64((ulong)v);

    public WireWriter Bytes(ReadOnlySpan<byte> v)
    {
        _buf.Write(v);
        return this;
    }

    public WireWriter String(string v)
    {
        int n = Encoding.UTF8.GetByteCount(v);
        if (n > ushort.MaxValue)
        {
            throw new ArgumentException("string too long for the wire", nameof(v));
        }

        U16((ushort)n);
        Encoding.UTF8.GetBytes(v, _buf.GetSpan(n));
        _buf.Advance(n);
        return this;
    }

    public byte[] ToArray() => _buf.WrittenSpan.ToArray();
}
