using System.Security.Cryptography;
using System.Text;
using Haul.Content;
using Haul.Protocol;
using Haul.Security;
using Haul.Sync;
using Haul.Transfer;
using Haul.Transport;

namespace Haul.Fuzz;

/// <summary>Seed inputs for each target, made by Haul's own encoders: real messages the fuzzer then bends.</summary>
internal static class Corpus
{
    public static void Write(string root)
    {
        foreach (var (target, name, bytes) in Seeds())
        {
            string dir = Path.Combine(root, target);
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
    }

    public static IEnumerable<(string Target, string Name, byte[] Bytes)> Seeds()
    {
        var small = SmallManifest();
        var tree = TreeManifest();
        var hash = Hash256.Of("seed"u8);
        var proposal = new Messages.SessionProposal(9, new byte[32], new byte[32], 1400);
        var (coding, wire) = Messages.EncodeManifest(tree.Encoded);
        var bodies = new (FrameType Type, string Name, WireWriter Body)[]
        {
            (FrameType.Hello, "hello", new Messages.Hello(1, "lab-a", "haul 1.0").Encode()),
            (FrameType.Error, "error", new Messages.ErrorMessage(ErrorCode.UnsafePath, "refused", "fix it").Encode()),
            (FrameType.Offer, "offer-raw", new Messages.Offer(small.Hash, small.Encoded.Length).Encode()),
            (FrameType.Offer, "offer-brotli", new Messages.Offer(tree.Hash, tree.Encoded.Length, coding, wire.Length, true, "ds", proposal).Encode()),
            (FrameType.Accept, "accept", new Messages.Accept(5, 4000, new byte[32], [(0, 3), (5, 2)], 100, 1, "127.0.0.1").Encode()),
            (FrameType.Start, "start", new Messages.Start(new byte[32], Messages.DataMode.Udp, 1400).Encode()),
            (FrameType.ChunkDone, "chunkdone", new Messages.ChunkDone([0, 1, 7], 2).Encode()),
            (FrameType.ChunkBad, "chunkbad", Messages.EncodeChunkIndex(3)),
            (FrameType.EarlyAccept, "earlyaccept", new Messages.EarlyAccept(5, 4000, new byte[32], "").Encode()),
            (FrameType.Join, "join", new Messages.Join(new byte[32], "lab-c").Encode()),
            (FrameType.Receipt, "receipt", Receipt.EncodeFrame(new Receipt(hash, "AAAA", "BBBB", 3, 1000, DateTimeOffset.UnixEpoch).EncodeBody(), new byte[64])),
            (FrameType.FolderOpen, "folderopen", new FolderMessages.Open("data", "sub/dir", true).Encode()),
            (FrameType.ListPart, "listpart", FolderMessages.EncodeList([new SyncEntry("a/b.txt", 10, 5) { Sha256 = hash }, new SyncEntry("c", 0, 0)])),
            (FrameType.Remove, "remove", FolderMessages.EncodeRemove(FolderMessages.RemoveOp.MoveToBackup, ".old", ["a", "b/c"])),
            (FrameType.SetTimes, "settimes", FolderMessages.EncodeTimes([("a", 1), ("b/c", 2)])),
            (FrameType.Pull, "pull", FolderMessages.EncodePaths(["a", "b/c"])),
            (FrameType.Hashes, "hashes", FolderMessages.EncodeHashes([hash, hash])),
            (FrameType.Done, "done", FolderMessages.EncodeDone(42)),
            (FrameType.ManifestPart, "manifestpart", new WireWriter().U64(0).Bytes(small.Encoded)),
        };

        foreach (var (type, name, body) in bodies)
        {
            var payload = body.WrittenSpan.ToArray();
            var frame = new byte[Frame.HeaderSize + payload.Length];
            FrameCodec.WriteHeader(frame, type, payload.Length);
            payload.CopyTo(frame, Frame.HeaderSize);
            yield return ("frame", name, frame);
            yield return ("messages", name, [(byte)type, 8, .. payload]);
        }

        yield return ("manifest", "small", small.Encoded);
        yield return ("manifest", "tree", tree.Encoded);
        foreach (var (name, m) in new[] { ("small", small), ("tree", tree) })
        {
            var (c, w) = Messages.EncodeManifest(m.Encoded);
            var offer = new Messages.Offer(m.Hash, m.Encoded.Length, c, w.Length).Encode().WrittenSpan.ToArray();
            yield return ("manifest-wire", name, [(byte)(offer.Length >> 8), (byte)offer.Length, .. offer, .. w]);
        }

        yield return ("folder", "open", [0, .. new FolderMessages.Open("data", "", false).Encode().WrittenSpan]);
        yield return ("folder", "list", [1, .. FolderMessages.EncodeList([new SyncEntry("x/y", 3, 4)]).WrittenSpan]);
        yield return ("folder", "remove", [2, .. FolderMessages.EncodeRemove(FolderMessages.RemoveOp.Delete, "", ["x"]).WrittenSpan]);
        yield return ("folder", "paths", [3, .. FolderMessages.EncodePaths(["x", "y/z"]).WrittenSpan]);
        yield return ("folder", "times", [4, .. FolderMessages.EncodeTimes([("x", 9)]).WrittenSpan]);
        yield return ("folder", "hashes", [5 + (2 << 3), .. FolderMessages.EncodeHashes([hash, hash]).WrittenSpan]);
        yield return ("folder", "done", [6, .. FolderMessages.EncodeDone(3).WrittenSpan]);

        yield return ("packet", "ack", [4, .. new byte[48]]);
        yield return ("ack", "ranges-and-done", AckSeed());
        yield return ("data", "piece", DataSeed());
        yield return ("packet", "data", [1, .. RandomNumberGenerator.GetBytes(1400)]);
        yield return ("packet", "probe", [2, .. new byte[20]]);
        yield return ("replay", "forward", [.. Enumerable.Repeat<byte>(0, 1), 1, 0, 1, 0x80, 2, 0x55, 0x55, 0x80, 0x10]);
        yield return ("replay", "edge", [0, 2, 0x55, 0x55, 0xD5, 0x54, 0x55, 0x55, 0xD5, 0x54]);

        var node = NodeId.FromHash(SHA256.HashData("node"u8));
        string token = new InviteToken("127.0.0.1:4433", node, new byte[32], DateTimeOffset.UnixEpoch.AddYears(60)).Encode();
        yield return ("invite", "token", Encoding.UTF8.GetBytes(token));
        yield return ("invite", "body", new WireWriter().U8(1).String("127.0.0.1:4433").String(node.Canonical).Bytes(new byte[32]).I64(1).WrittenSpan.ToArray());
        yield return ("token", "bearer", Encoding.UTF8.GetBytes("0123456789abcdefghijklmnopqrstuvwxyzABCDEFG" + node.Canonical));
        yield return ("token", "nodeid", Encoding.UTF8.GetBytes(node.ToString()));

        yield return ("api-json", "peer", [0, .. Encoding.UTF8.GetBytes($$"""{"id":"{{node}}","address":"127.0.0.1:4433","name":"lab-b"}""")]);
        yield return ("api-json", "invite", [1, .. """{"address":"127.0.0.1:4433","ttlHours":2.5}"""u8]);
        yield return ("api-json", "join", [2, .. Encoding.UTF8.GetBytes($$"""{"token":"{{token}}","name":"lab-b"}""")]);
        yield return ("api-json", "transfer", [3, .. """{"kind":"send","peer":"lab-b","path":"/data","mode":"background","maxRate":"100M","minRate":"1M"}"""u8]);
        yield return ("api-json", "folder", [4, .. """{"name":"data","path":"/srv/data","share":"lab-b:rw"}"""u8]);
        yield return ("api-json", "job", [5, .. """{"name":"nightly","every":"1d","command":["send","/data","lab-b"]}"""u8]);

        yield return ("s3-key", "plain", "photos/2024/a.jpg\n1700000000.123456789"u8.ToArray());
        yield return ("s3-key", "rfc3339", "a/b\n2024-01-02T03:04:05Z"u8.ToArray());
    }

    private static Manifest SmallManifest()
    {
        var c = new ChunkInfo(Hash256.Of("x"u8), 1);
        return ManifestCodec.Create(
        [
            new ManifestEntry("ds", EntryKind.Directory, (UnixFileMode)0x1ED, 1, 0, [], null),
            new ManifestEntry("ds/x", EntryKind.File, (UnixFileMode)0x1A4, 2, 1, [0], null),
            new ManifestEntry("ds/l", EntryKind.Symlink, (UnixFileMode)0x1FF, 3, 0, [], "x"),
        ], [c]);
    }

    private static Manifest TreeManifest()
    {
        var entries = new List<ManifestEntry> { new("ds", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null) };
        var chunks = new List<ChunkInfo>();
        for (int d = 0; d < 4; d++)
        {
            entries.Add(new ManifestEntry($"ds/d{d:0000}", EntryKind.Directory, (UnixFileMode)0x1ED, 0, 0, [], null));
            for (int f = 0; f < 10; f++)
            {
                chunks.Add(new ChunkInfo(Hash256.Of(BitConverter.GetBytes((d * 10) + f)), 1000 + f));
                entries.Add(new ManifestEntry($"ds/d{d:0000}/f{f:0000}.bin", EntryKind.File, (UnixFileMode)0x1A4, 1_700_000_000_000_000_000, 1000 + f, [chunks.Count - 1], null));
            }
        }

        return ManifestCodec.Create(entries, [.. chunks]);
    }

    private static byte[] DataSeed()
    {
        var b = new byte[DataCodec.Overhead + 64];
        PacketHeaderCodec.Write(b, new PacketHeader(PacketType.Data, (ushort)b.Length, 9, 12345));
        DataCodec.Write(b, new DataHeader(3, 2 * 1428, 0xDEADBEEF));
        return b;
    }

    private static byte[] AckSeed()
    {
        var b = new byte[120];
        AckCodec.WriteHeader(b, new AckHeader(1, 2, 3, 4, 5, 6, -7, 2));
        int pos = AckCodec.HeaderSize;
        AckCodec.WriteEntry(b.AsSpan(pos), 0, 900, 2);
        pos += AckCodec.EntrySize;
        AckCodec.WriteRange(b.AsSpan(pos), 10, 5);
        pos += AckCodec.RangeSize;
        AckCodec.WriteRange(b.AsSpan(pos), 400, 20);
        pos += AckCodec.RangeSize;
        AckCodec.WriteEntry(b.AsSpan(pos), 3, 1000, 0);
        pos += AckCodec.EntrySize;
        AckCodec.WriteDoneCount(b.AsSpan(pos), 2);
        AckCodec.WriteDone(b.AsSpan(pos + 2), 5);
        AckCodec.WriteDone(b.AsSpan(pos + 6), 6);
        return b[..(pos + 10)];
    }
}
