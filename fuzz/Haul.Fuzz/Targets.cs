using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Haul.Cli.Api;
using Haul.Cli.Commands;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.Sync;
using Haul.Transfer;
using Haul.Transfer.Congestion;
using Haul.Transport;

namespace Haul.Fuzz;

/// <summary>
/// One entry point per parser that takes bytes from a peer, an S3 listing or an API client. Each runs
/// the real decoder on untrusted input and lets through only the exceptions the decoder promises
/// (<see cref="HaulException"/>, and <see cref="JsonException"/> for JSON bodies): anything else
/// escapes and is a finding. Shared by the fuzzer (fuzz/Haul.Fuzz) and the in-process robustness test.
/// </summary>
internal static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["frame"] = Frame,
        ["messages"] = MessageBody,
        ["manifest"] = Manifest,
        ["manifest-wire"] = ManifestWire,
        ["folder"] = Folder,
        ["packet"] = Packet,
        ["ack"] = Ack,
        ["data"] = Data,
        ["replay"] = Replay,
        ["invite"] = Invite,
        ["token"] = Token,
        ["api-json"] = ApiJsonBody,
        ["s3-key"] = S3Key,
    };

    /// <summary>A control frame: the header, then its payload through the decoder its type names.</summary>
    public static void Frame(byte[] data)
    {
        Expect(() =>
        {
            int len = FrameCodec.ReadHeader(data, out var type);
            var payload = data.AsSpan(Haul.Protocol.Frame.HeaderSize).ToArray();
            if (len != payload.Length)
            {
                return;
            }

            Decode(type, payload, chunkCount: 64);
        });
    }

    /// <summary>A payload (first byte picks the frame type, second the chunk count the receiver knows).</summary>
    public static void MessageBody(byte[] data)
    {
        if (data.Length < 2)
        {
            return;
        }

        Expect(() => Decode((FrameType)data[0], data[2..], data[1]));
    }

    public static void Manifest(byte[] data) => Expect(() => ManifestCodec.Decode(data));

    /// <summary>An OFFER, then the rest as the manifest's parts in 1-byte-offset frames and the decoding of that wire form.</summary>
    public static void ManifestWire(byte[] data)
    {
        Expect(() =>
        {
            var r = new SpanReader(data);
            int offerLength = r.U16();
            var offer = Messages.Offer.Decode(r.Bytes(Math.Min(offerLength, r.Remaining)).ToArray());
            var parts = new ManifestParts(offer.BytesOnWire);
            var rest = data.AsSpan(r.Position);
            long at = 0;
            while (!parts.IsComplete && rest.Length > 0)
            {
                int n = Math.Min(rest.Length, 1 + (rest[0] * 64));
                var part = new WireWriter(n + 8).U64((ulong)at).Bytes(rest[..n]).ToArray();
                parts.Add(part);
                at += n;
                rest = rest[n..];
            }

            if (parts.IsComplete)
            {
                var encoded = Messages.DecodeManifest(offer.Coding, parts.Wire, offer.Length);
                ManifestCodec.Decode(encoded);
            }
        });
    }

    public static void Folder(byte[] data)
    {
        if (data.Length < 1)
        {
            return;
        }

        var p = data[1..];
        Expect(() =>
        {
            switch (data[0] % 7)
            {
                case 0: FolderMessages.Open.Decode(p); break;
                case 1: FolderMessages.DecodeList(p); break;
                case 2: FolderMessages.DecodeRemove(p); break;
                case 3: FolderMessages.DecodePaths(p); break;
                case 4: FolderMessages.DecodeTimes(p); break;
                case 5: FolderMessages.DecodeHashes(p, data[0] >> 3); break;
                default: FolderMessages.DecodeDone(p); break;
            }
        });
    }

    private static readonly byte[] PacketKey = SHA256.HashData("haul fuzz key"u8);
    private static readonly byte[] PacketSalt = SHA256.HashData("haul fuzz salt"u8)[..4];

    /// <summary>
    /// A datagram as it arrives (peeked, then opened: forged, so refused) and the same bytes sealed as a
    /// real peer would, opened again: authenticated input reaches past the tag check.
    /// </summary>
    public static void Packet(byte[] data)
    {
        using var seal = new PacketCodec(PacketKey, PacketSalt);
        using var open = new PacketCodec(PacketKey, PacketSalt);
        var plain = new byte[64 * 1024];
        if (PacketCodec.TryPeek(data, out _, out int length, out _))
        {
            var packet0 = data.AsSpan(0, length);
            int m = PacketCodec.PlainLength(packet0);
            if (m >= 0 && m <= plain.Length && open.Open(packet0, plain.AsSpan(0, m)))
            {
                throw new InvalidOperationException("a forged packet opened");
            }
        }

        if (data.Length < 1 || data.Length > 60_000)
        {
            return;
        }

        var packet = new byte[data.Length + PacketCodec.DataOverhead];
        var kind = (PacketType)(1 + (data[0] % 4));
        int n = kind == PacketType.Data
            ? seal.SealData(7, data[0], (uint)data.Length, 1, data, packet)
            : seal.Seal(kind, 7, data, packet);
        if (!PacketCodec.TryPeek(packet.AsSpan(0, n), out var type, out length, out uint sid) || sid != 7 || type != kind || length != n)
        {
            throw new InvalidOperationException("a sealed packet does not peek as itself");
        }

        var sealedPlain = plain.AsSpan(0, PacketCodec.PlainLength(packet.AsSpan(0, n)));
        if (!open.Open(packet.AsSpan(0, n), sealedPlain) || !sealedPlain.SequenceEqual(data) || open.Open(packet.AsSpan(0, n), sealedPlain))
        {
            throw new InvalidOperationException("a sealed packet did not open exactly once, as itself");
        }
    }

    /// <summary>
    /// A DATA packet's cleartext header as the receiver reads it before any crypto (the common header,
    /// then chunk, offset and sender time), then written back through the same codecs: a header that
    /// reads must write as the same bytes, and a short input must be refused, never read past.
    /// </summary>
    public static void Data(byte[] data)
    {
        bool common = PacketHeaderCodec.TryRead(data, out var h);
        if (common != data.Length >= PacketHeaderCodec.Size)
        {
            throw new InvalidOperationException("the common header was read from too few bytes, or refused from enough");
        }

        bool fields = DataCodec.TryRead(data, out var d);
        if (fields != data.Length >= DataCodec.Overhead)
        {
            throw new InvalidOperationException("DATA fields were read from too few bytes, or refused from enough");
        }

        if (!fields)
        {
            return;
        }

        var back = new byte[DataCodec.HeaderSize];
        PacketHeaderCodec.Write(back, h);
        DataCodec.Write(back, d);
        back[1] = data[1]; // flags: written 0, ignored when read
        if (!back.AsSpan().SequenceEqual(data.AsSpan(0, DataCodec.HeaderSize)))
        {
            throw new InvalidOperationException("a DATA header did not write back as the bytes it was read from");
        }
    }

    /// <summary>
    /// An ACK's plaintext as the sender walks it (header, entries with their ranges checked as UdpSender
    /// checks them against a chunk of 1,000 pieces, the done trailer): every read stays within the bytes.
    /// </summary>
    public static void Ack(byte[] data)
    {
        if (!AckCodec.TryReadHeader(data, out var h))
        {
            return;
        }

        ReadOnlySpan<byte> a = data;
        int pos = AckCodec.HeaderSize;
        for (int e = 0; e < h.Entries && pos + AckCodec.EntrySize <= a.Length; e++)
        {
            var (_, seen, ranges) = AckCodec.ReadEntry(a[pos..]);
            pos += AckCodec.EntrySize;
            if (pos + (ranges * AckCodec.RangeSize) > a.Length)
            {
                break;
            }

            int cursor = 0;
            bool valid = seen is >= 0 and <= 1000;
            for (int r = 0; r < ranges; r++)
            {
                var (start, count) = AckCodec.ReadRange(a[pos..]);
                pos += AckCodec.RangeSize;
                if (!valid || !LossRecovery.AckRangeFits(start, count, cursor, seen))
                {
                    valid = false;
                    continue;
                }

                if (start < 0 || start + count > 1000)
                {
                    throw new InvalidOperationException($"a range that fits reaches past the chunk: {start}+{count}");
                }

                cursor = start + count;
            }
        }

        if (pos < a.Length && AckCodec.ReadDone(a[pos..]).Length * AckCodec.DoneSize > a.Length - pos)
        {
            throw new InvalidOperationException("the done trailer read past the ACK");
        }
    }

    /// <summary>Packet numbers (u16 deltas, the top bit a step back) against the anti-replay window and its rule.</summary>
    public static void Replay(byte[] data)
    {
        var w = new ReplayWindow();
        var seen = new HashSet<ulong>();
        ulong highest = 0;
        ulong pn = 0;
        for (int i = 0; i + 2 <= data.Length; i += 2)
        {
            int d = (data[i] << 8) | data[i + 1];
            ulong step = (ulong)(d & 0x7FFF) * 3;
            pn = (d & 0x8000) != 0 ? (pn >= step ? pn - step : 0) : pn + step;
            bool expected = !(seen.Count > 0 && pn < highest && highest - pn >= ReplayWindow.Size) && seen.Add(pn);
            if (expected)
            {
                highest = Math.Max(highest, pn);
            }

            if (w.TryAccept(pn) != expected)
            {
                throw new InvalidOperationException($"replay window disagrees with its rule at {pn}");
            }
        }
    }

    /// <summary>An invite token as typed, and the same body with a valid checksum so the parser behind it is reached.</summary>
    public static void Invite(byte[] data)
    {
        Expect(() => InviteToken.Decode(Encoding.UTF8.GetString(data)));
        var sum = SHA256.HashData(data).AsSpan(0, 4).ToArray();
        Expect(() => InviteToken.Decode("haul1-" + Base64Url([.. data, .. sum])));
    }

    /// <summary>API bearer tokens and node IDs as a client presents them.</summary>
    public static void Token(byte[] data)
    {
        string s = Encoding.UTF8.GetString(data);
        int cut = s.Length / 2;
        ApiToken.Matches(s[..cut], s[cut..]);
        ApiToken.Matches("0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", s);
        if (NodeId.TryParse(s, out var id) && !NodeId.TryParse(id.ToString(), out _))
        {
            throw new InvalidOperationException("a parsed node ID does not parse again");
        }
    }

    /// <summary>A REST body (first byte picks the type), then what the endpoint does with its fields.</summary>
    public static void ApiJsonBody(byte[] data)
    {
        if (data.Length < 1)
        {
            return;
        }

        var json = data[1..];
        Expect(() =>
        {
            switch (data[0] % 6)
            {
                case 0:
                    if (JsonSerializer.Deserialize(json, ApiJson.Default.PeerBody) is { Id: { } pid })
                    {
                        NodeId.TryParse(pid, out _);
                    }

                    break;
                case 1:
                    JsonSerializer.Deserialize(json, ApiJson.Default.InviteBody);
                    break;
                case 2:
                    if (JsonSerializer.Deserialize(json, ApiJson.Default.JoinBody) is { Token: { } t })
                    {
                        InviteToken.Decode(t);
                    }

                    break;
                case 3:
                    if (JsonSerializer.Deserialize(json, ApiJson.Default.TransferBody) is { } tb)
                    {
                        Haul.Transfer.Congestion.RatePolicy.Parse(tb.Mode, tb.MinRate, tb.MaxRate, new RatePolicy(), "help");
                    }

                    break;
                case 4:
                    JsonSerializer.Deserialize(json, ApiJson.Default.FolderBody);
                    break;
                default:
                    if (JsonSerializer.Deserialize(json, ApiJson.Default.JobBody) is { Name: { } name } jb && jb.Watch is null)
                    {
                        JobCommands.Build(name, jb.Command ?? [], jb.Every, null, DateTimeOffset.UnixEpoch, new RatePolicy());
                    }

                    break;
            }
        });
    }

    /// <summary>
    /// What Haul does with an S3 listing (the XML itself is AWSSDK's): a key's path checks, and the
    /// "mtime" metadata turned into a time that must be one a file can have.
    /// </summary>
    public static void S3Key(byte[] data)
    {
        string s = Encoding.UTF8.GetString(data);
        int nl = s.IndexOf('\n', StringComparison.Ordinal);
        string key = nl < 0 ? s : s[..nl];
        string meta = nl < 0 ? s : s[(nl + 1)..];
        if (PathSafety.IsSafeRelative(key, out _))
        {
            PathSafety.SymlinkStaysInside(key, meta);
        }

        if (S3End.ParseMtime(meta) is { } ticks)
        {
            _ = new DateTime(ticks, DateTimeKind.Utc);
        }
    }

    private static void Decode(FrameType type, byte[] p, int chunkCount)
    {
        switch (type)
        {
            case FrameType.Hello: Messages.Hello.Decode(p); break;
            case FrameType.Error: Messages.ErrorMessage.Decode(p); break;
            case FrameType.Offer: Messages.Offer.Decode(p); break;
            case FrameType.Accept: Messages.Accept.Decode(p, chunkCount); break;
            case FrameType.Start: Messages.Start.Decode(p); break;
            case FrameType.ChunkDone: Messages.ChunkDone.Decode(p, chunkCount); break;
            case FrameType.ChunkBad: Messages.DecodeChunkIndex(p, chunkCount); break;
            case FrameType.Receipt:
                var (body, _) = Receipt.DecodeFrame(p);
                Receipt.DecodeBody(body);
                break;
            case FrameType.EarlyAccept: Messages.EarlyAccept.Decode(p); break;
            case FrameType.Join or FrameType.JoinOk: Messages.Join.Decode(p); break;
            case FrameType.FolderOpen: FolderMessages.Open.Decode(p); break;
            case FrameType.ListPart: FolderMessages.DecodeList(p); break;
            case FrameType.Remove: FolderMessages.DecodeRemove(p); break;
            case FrameType.SetTimes: FolderMessages.DecodeTimes(p); break;
            case FrameType.Pull or FrameType.HashRequest or FrameType.ReuseHint: FolderMessages.DecodePaths(p); break;
            case FrameType.Hashes: FolderMessages.DecodeHashes(p, chunkCount); break;
            case FrameType.Done: FolderMessages.DecodeDone(p); break;
            case FrameType.ManifestPart: new ManifestParts(Math.Max(1, chunkCount * 1024)).Add(p); break;
            default: break;
        }
    }

    private static void Expect(Action parse)
    {
        try
        {
            parse();
        }
        catch (HaulException)
        {
            // The decoder's promise: malformed input is a HaulException, never anything else.
        }
        catch (JsonException)
        {
            // System.Text.Json's own refusal of malformed JSON (the API answers 400 with its path).
        }
    }

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
