using Haul.Content;
using Haul.Protocol;

namespace Haul.Transfer;

/// <summary>
/// Proof of delivery, signed by the receiver's node key: which manifest, from whom, to whom, how much, when.
/// Body layout: u8 version, 32-byte manifest hash, sender ID, receiver ID, u64 files, u64 bytes, i64 unix ms.
/// </summary>
internal sealed record Receipt(Hash256 ManifestHash, string SenderId, string ReceiverId, long Files, long Bytes, DateTimeOffset DeliveredAt)
{
    public byte[] EncodeBody()
    {
        Span<byte> h = stackalloc byte[32];
        ManifestHash.Write(h);
        return new WireWriter().U8(1).Bytes(h).String(SenderId).String(ReceiverId).U64((ulong)Files).U64((ulong)Bytes).I64(DeliveredAt.ToUnixTimeMilliseconds()).ToArray();
    }

    public static Receipt DecodeBody(byte[] body)
    {
        var r = new SpanReader(body);
        if (r.U8() != 1)
        {
            ThrowHelper.Protocol("unknown receipt version");
        }

        var rc = new Receipt(Hash256.Read(r.Bytes(32)), r.String(), r.String(), (long)r.U64(), (long)r.U64(), DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(r.I64(), 0, 253402300799000)));
        r.End();
        return rc;
    }

    public static WireWriter EncodeFrame(byte[] body, byte[] signature) =>
        new WireWriter().U32((uint)body.Length).Bytes(body).U16((ushort)signature.Length).Bytes(signature);

    public static (byte[] Body, byte[] Signature) DecodeFrame(byte[] payload)
    {
        var r = new SpanReader(payload);
        int n = r.Count(1, 4096);
        var body = r.Bytes(n).ToArray();
        int s = r.U16();
        var sig = r.Bytes(s).ToArray();
        r.End();
        return (body, sig);
    }
}
