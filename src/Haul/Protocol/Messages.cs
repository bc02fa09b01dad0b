using Haul.Content;

namespace Haul.Protocol;

/// <summary>Control-message bodies. Each has Encode() and a Decode() that validates untrusted input.</summary>
internal static class Messages
{
    public const ushort ProtocolVersion = 1;

    internal sealed record Hello(ushort Version, string NodeName, string Software)
    {
        public WireWriter Encode() => new WireWriter().U16(Version).String(NodeName).String(Software);

        public static Hello Decode(byte[] p)
        {
            var r = new SpanReader(p);
            var m = new Hello(r.U16(), r.String(), r.String());
            r.End();
            return m;
        }
    }

    internal sealed record ErrorMessage(ErrorCode Code, string Message, string? Hint)
    {
        public WireWriter Encode() => new WireWriter().U16((ushort)Code).String(Message).String(Hint ?? string.Empty);

        public static ErrorMessage Decode(byte[] p)
        {
            var r = new SpanReader(p);
            var code = (ErrorCode)r.U16();
            if (!Enum.IsDefined(code))
            {
                code = ErrorCode.Internal;
            }

            var m = new ErrorMessage(code, r.String(), r.String());
            r.End();
            return m with { Hint = m.Hint?.Length > 0 ? m.Hint : null };
        }
    }

    /// <summary>
    /// Sender → receiver: a manifest of <see cref="Length"/> bytes follows in ManifestPart frames, as
    /// <see cref="WireLength"/> bytes in <see cref="Coding"/> (raw, or Brotli: paths and chunk tables
    /// shrink, so a big tree's manifest takes fewer of TCP's slow-start round trips). The hash is over
    /// the decoded manifest. An OFFER without the last two fields (older senders) is raw.
    /// </summary>
    /// <param name="EarlyWelcome">The sender can take an EARLY_ACCEPT and start its data before the need list.</param>
    /// <param name="RootName">The manifest's top-level name, so the receiver can tell a fresh delivery (nothing by that name yet) before the manifest arrives.</param>
    /// <param name="Proposal">A session the sender proposes and already sends in (zero round trips), or null.</param>
    internal sealed record Offer(Hash256 ManifestHash, long Length, ManifestCoding Coding = ManifestCoding.Raw, long WireLength = 0, bool EarlyWelcome = false, string RootName = "", SessionProposal? Proposal = null)
    {
        public long BytesOnWire => Coding == ManifestCoding.Raw ? Length : WireLength;

        public WireWriter Encode()
        {
            Span<byte> h = stackalloc byte[32];
            ManifestHash.Write(h);
            var w = new WireWriter().Bytes(h).U64((ulong)Length).U8((byte)Coding).U64((ulong)BytesOnWire).U8(EarlyWelcome ? (byte)1 : (byte)0).String(RootName);
            return Proposal is { } p ? w.U32(p.SessionId).Bytes(p.ReceiverSecret).Bytes(p.SenderSecret).U16((ushort)p.PieceSize) : w;
        }

        public static Offer Decode(byte[] p)
        {
            var r = new SpanReader(p);
            var h = Hash256.Read(r.Bytes(32));
            ulong len = r.U64();
            var coding = ManifestCoding.Raw;
            ulong wire = len;
            bool early = false;
            string root = string.Empty;
            if (r.Remaining > 0)
            {
                coding = (ManifestCoding)r.U8();
                wire = r.U64();
            }

            if (r.Remaining > 0)
            {
                early = (r.U8() & 1) != 0;
                root = r.String();
            }

            SessionProposal? proposal = null;
            if (r.Remaining > 0)
            {
                uint sid = r.U32();
                var receiverHalf = r.Bytes(32).ToArray();
                var senderHalf = r.Bytes(32).ToArray();
                int piece = r.U16();
                proposal = new SessionProposal(sid, receiverHalf, senderHalf, piece);
                if (sid == 0 || !early)
                {
                    ThrowHelper.Protocol("a session proposal needs a nonzero id and an early welcome");
                }

                CheckPieceSize(piece);
            }

            r.End();
            if (len == 0)
            {
                ThrowHelper.Protocol("an empty manifest");
            }

            if (len > ManifestCodec.MaxEncodedLength)
            {
                throw ManifestCodec.TooLarge($"{len} bytes");
            }

            if (coding is not (ManifestCoding.Raw or ManifestCoding.Brotli) || wire == 0 || (coding == ManifestCoding.Raw ? wire != len : wire > len + (len / 64) + 1024))
            {
                ThrowHelper.Protocol($"manifest coding {coding} with {wire} bytes on the wire for {len} is not valid");
            }

            return new Offer(h, (long)len, coding, (long)wire, early, root, proposal);
        }
    }

    /// <summary>
    /// The session a sender proposes in its OFFER and already sends its first data in, to the receiver's
    /// control port, before any answer: the id, both key halves (all chosen by the sender) and the piece
    /// size, so a receiver that takes it can authenticate and place that data as soon as its plan is
    /// made, without waiting for START. It answers EARLY_ACCEPT with the same id and receiver half; the
    /// START that follows must carry the same sender half and piece size.
    /// </summary>
    internal sealed record SessionProposal(uint SessionId, byte[] ReceiverSecret, byte[] SenderSecret, int PieceSize);

    /// <summary>
    /// The receiver's session parameters, sent as soon as an OFFER shows a fresh delivery, before the
    /// manifest has arrived: the sender starts its data a round trip or more earlier, and learns which
    /// chunks are really needed from the ACCEPT that follows (same session, same secret).
    /// </summary>
    internal sealed record EarlyAccept(uint SessionId, ushort UdpPort, byte[] ReceiverSecret, string UdpHost)
    {
        public WireWriter Encode() => new WireWriter(64).U32(SessionId).U16(UdpPort).Bytes(ReceiverSecret).String(UdpHost);

        public static EarlyAccept Decode(byte[] p)
        {
            var r = new SpanReader(p);
            uint sid = r.U32();
            ushort port = r.U16();
            byte[] secret = r.Bytes(32).ToArray();
            string host = r.String();
            r.End();
            if (port == 0)
            {
                ThrowHelper.Protocol("an early accept without a UDP port");
            }

            return new EarlyAccept(sid, port, secret, host);
        }
    }

    private static void CheckPieceSize(int piece)
    {
        if (piece < PieceSize.Min || piece > PieceSize.Max)
        {
            ThrowHelper.Protocol($"piece size {piece} is out of range");
        }
    }

    internal enum ManifestCoding : byte
    {
        Raw = 0,
        Brotli = 1,
    }

    /// <summary>The manifest's wire form: Brotli (quality 1, fast) when that saves at least 5%.</summary>
    internal static (ManifestCoding Coding, byte[] Wire) EncodeManifest(byte[] manifest)
    {
        if (manifest.Length >= 1024)
        {
            var buf = new byte[System.IO.Compression.BrotliEncoder.GetMaxCompressedLength(manifest.Length)];
            if (System.IO.Compression.BrotliEncoder.TryCompress(manifest, buf, out int n, quality: 1, window: 22) && n < manifest.Length * 0.95)
            {
                return (ManifestCoding.Brotli, buf.AsSpan(0, n).ToArray());
            }
        }

        return (ManifestCoding.Raw, manifest);
    }

    /// <summary>
    /// Decodes a manifest's wire form into exactly <paramref name="length"/> bytes; anything else is
    /// corrupt. Brotli is decoded in steps into a buffer that grows with what the stream really yields
    /// (never the claimed length up front), and decoding stops at the first byte past the claim: a
    /// small part that would inflate to gigabytes costs at most the claim, itself bounded by
    /// <see cref="ManifestCodec.MaxEncodedLength"/>.
    /// </summary>
    internal static byte[] DecodeManifest(ManifestCoding coding, byte[] wire, long length)
    {
        if (length <= 0 || length > ManifestCodec.MaxEncodedLength)
        {
            throw ManifestCodec.TooLarge($"{length} bytes");
        }

        if (coding == ManifestCoding.Raw)
        {
            return wire.Length == length ? wire : throw NotItsLength();
        }

        using var decoder = new System.IO.Compression.BrotliDecoder();
        var output = new byte[(int)Math.Min(length, Math.Max(64 * 1024, wire.Length * 8L))];
        Span<byte> probe = stackalloc byte[1];
        int consumed = 0;
        int produced = 0;
        while (true)
        {
            var status = decoder.Decompress(wire.AsSpan(consumed), output.AsSpan(produced), out int read, out int written);
            consumed += read;
            produced += written;
            switch (status)
            {
                case System.Buffers.OperationStatus.Done:
                    return produced == length && consumed == wire.Length ? output : throw NotItsLength();
                case System.Buffers.OperationStatus.DestinationTooSmall when produced < length:
                    Array.Resize(ref output, (int)Math.Min(length, output.Length * 2L));
                    break;
                case System.Buffers.OperationStatus.DestinationTooSmall:
                    // Full at the stated length: the stream must end here. One byte of room tells an end
                    // marker still to read from data past the claim, and nothing more is decoded.
                    var last = decoder.Decompress(wire.AsSpan(consumed), probe, out read, out written);
                    consumed += read;
                    return last == System.Buffers.OperationStatus.Done && written == 0 && consumed == wire.Length ? output : throw NotItsLength();
                default:
                    throw NotItsLength();
            }
        }

        static HaulException NotItsLength() => new(ErrorCode.CorruptData, "the manifest does not decompress to its stated length", "run the send again");
    }

    /// <summary>
    /// Receiver → sender: what it still needs (chunk index ranges), its UDP port (0: no UDP), the
    /// session id to put in data packets, and its half of the data-channel key material.
    /// </summary>
    internal sealed record Accept(uint SessionId, ushort UdpPort, byte[] ReceiverSecret, IReadOnlyList<(int Start, int Count)> Need, long ReusedBytes, int FilesAlreadyDone, string UdpHost)
    {
        public WireWriter Encode()
        {
            var w = new WireWriter(64 + (Need.Count * 8));
            w.U32(SessionId).U16(UdpPort).Bytes(ReceiverSecret).U64((ulong)ReusedBytes).U32((uint)FilesAlreadyDone).String(UdpHost).U32((uint)Need.Count);
            foreach (var (s, c) in Need)
            {
                w.U32((uint)s).U32((uint)c);
            }

            return w;
        }

        public static Accept Decode(byte[] p, int chunkCount)
        {
            var r = new SpanReader(p);
            uint sid = r.U32();
            ushort port = r.U16();
            byte[] secret = r.Bytes(32).ToArray();
            long reused = (long)Math.Min(r.U64(), long.MaxValue);
            int filesDone = (int)Math.Min(r.U32(), int.MaxValue);
            string host = r.String();
            int n = r.Count(8);
            var need = new List<(int, int)>(n);
            long next = 0;
            for (int i = 0; i < n; i++)
            {
                uint s = r.U32();
                uint c = r.U32();
                if (c == 0 || s < next || (long)s + c > chunkCount)
                {
                    ThrowHelper.Protocol("need ranges are not ordered, empty or out of bounds");
                }

                need.Add(((int)s, (int)c));
                next = (long)s + c;
            }

            r.End();
            return new Accept(sid, port, secret, need, reused, filesDone, host);
        }
    }

    internal enum DataMode : byte
    {
        Udp = 0,
        Tcp = 1,
    }

    /// <summary>Sender → receiver: its half of the key material and where the data will flow.</summary>
    internal sealed record Start(byte[] SenderSecret, DataMode Mode, int PieceSize)
    {
        public WireWriter Encode() => new WireWriter().Bytes(SenderSecret).U8((byte)Mode).U16((ushort)PieceSize);

        public static Start Decode(byte[] p)
        {
            var r = new SpanReader(p);
            var secret = r.Bytes(32).ToArray();
            var mode = (DataMode)r.U8();
            int piece = r.U16();
            r.End();
            if (mode is not (DataMode.Udp or DataMode.Tcp))
            {
                ThrowHelper.Protocol($"unknown data mode {(byte)mode}");
            }

            CheckPieceSize(piece);
            return new Start(secret, mode, piece);
        }
    }

    /// <summary>Receiver → sender: chunks verified and written, and how many files are now in place.</summary>
    internal sealed record ChunkDone(int[] Chunks, int FilesDone)
    {
        public WireWriter Encode()
        {
            var w = new WireWriter(8 + (Chunks.Length * 4));
            w.U32((uint)FilesDone).U32((uint)Chunks.Length);
            foreach (var c in Chunks)
            {
                w.U32((uint)c);
            }

            return w;
        }

        public static ChunkDone Decode(byte[] p, int chunkCount)
        {
            var r = new SpanReader(p);
            int files = (int)Math.Min(r.U32(), int.MaxValue);
            int n = r.Count(4);
            var list = new int[n];
            for (int i = 0; i < n; i++)
            {
                uint c = r.U32();
                if (c >= (uint)chunkCount)
                {
                    ThrowHelper.Protocol($"chunk index {c} is out of range");
                }

                list[i] = (int)c;
            }

            r.End();
            return new ChunkDone(list, files);
        }
    }

    internal static WireWriter EncodeChunkIndex(int chunk) => new WireWriter(4).U32((uint)chunk);

    internal static int DecodeChunkIndex(byte[] p, int chunkCount)
    {
        var r = new SpanReader(p);
        uint c = r.U32();
        r.End();
        return c < (uint)chunkCount ? (int)c : ThrowHelper.Protocol<int>($"chunk index {c} is out of range");
    }

    internal sealed record Join(byte[] Secret, string NodeName)
    {
        public WireWriter Encode() => new WireWriter().Bytes(Secret).String(NodeName);

        public static Join Decode(byte[] p)
        {
            var r = new SpanReader(p);
            var m = new Join(r.Bytes(32).ToArray(), r.String());
            r.End();
            return m;
        }
    }
}
