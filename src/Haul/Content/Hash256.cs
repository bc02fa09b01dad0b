using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Haul.Content;

/// <summary>A SHA-256 value as a cheap, comparable key.</summary>
internal readonly record struct Hash256(ulong A, ulong B, ulong C, ulong D)
{
    public const int Size = 32;

    public static Hash256 Read(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt64BigEndian(s),
        BinaryPrimitives.ReadUInt64BigEndian(s[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(s[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(s[24..]));

    public static Hash256 Of(ReadOnlySpan<byte> data)
    {
        Span<byte> h = stackalloc byte[Size];
        SHA256.HashData(data, h);
        return Read(h);
    }

    public void Write(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt64BigEndian(d, A);
        BinaryPrimitives.WriteUInt64BigEndian(d[8..], B);
        BinaryPrimitives.WriteUInt64BigEndian(d[16..], C);
        BinaryPrimitives.WriteUInt64BigEndian(d[24..], D);
    }

    public byte[] ToArray()
    {
        var b = new byte[Size];
        Write(b);
        return b;
    }

    public string ToHex() => Convert.ToHexStringLower(ToArray());

    public override string ToString() => ToHex();
}
