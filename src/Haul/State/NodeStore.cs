using Haul.Security;
using Microsoft.Data.Sqlite;

namespace Haul.State;

/// <summary>
/// The node's SQLite database: peers, invites, transfer journal, chunk progress and receipts.
/// One connection guarded by a lock; WAL mode so the CLI and a running daemon can share the file.
/// </summary>
internal sealed class NodeStore : INodeCatalog
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();

    public NodeStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _db.Open();
        Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;");
        Exec("""
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS peers(
                node_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, address TEXT, added_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS invites(
                secret_hash BLOB PRIMARY KEY, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS transfers(
                id INTEGER PRIMARY KEY, direction TEXT NOT NULL, manifest_hash TEXT NOT NULL, peer_id TEXT NOT NULL,
                root TEXT NOT NULL, state TEXT NOT NULL, files INTEGER NOT NULL, bytes INTEGER NOT NULL,
                started_at INTEGER NOT NULL, finished_at INTEGER,
                UNIQUE(direction, manifest_hash, peer_id));
            CREATE TABLE IF NOT EXISTS chunk_done(
                transfer_id INTEGER NOT NULL REFERENCES transfers(id) ON DELETE CASCADE, chunk INTEGER NOT NULL,
                PRIMARY KEY(transfer_id, chunk)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS receipts(
                id INTEGER PRIMARY KEY, manifest_hash TEXT NOT NULL, peer_id TEXT NOT NULL, peer_name TEXT NOT NULL,
                files INTEGER NOT NULL, bytes INTEGER NOT NULL, delivered_at INTEGER NOT NULL,
                body BLOB NOT NULL, signature BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS folders(name TEXT PRIMARY KEY, path TEXT NOT NULL, added_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS folder_shares(
                folder TEXT NOT NULL REFERENCES folders(name) ON DELETE CASCADE, peer_id TEXT NOT NULL,
                access TEXT NOT NULL CHECK(access IN ('ro','rw')), PRIMARY KEY(folder, peer_id)) WITHOUT ROWID;
            """);
    }

    public string? GetMeta(string key)
    {
        lock (_lock)
        {
            using var c = Cmd("SELECT value FROM meta WHERE key=$k", ("$k", key));
            return c.ExecuteScalar() as string;
        }
    }

    public void SetMeta(string key, string value)
    {
        lock (_lock)
        {
            using var c = Cmd("INSERT INTO meta(key,value) VALUES($k,$v) ON CONFLICT(key) DO UPDATE SET value=excluded.value", ("$k", key), ("$v", value));
            c.ExecuteNonQuery();
        }
    }

    public void AddPeer(NodeId id, string name, string? address)
    {
        // The last gate for every way a peer gets a name (CLI, API, JOIN, JOIN_OK): the name becomes
        // its inbox folder.
        NodeName.Check(name, "peer name");
        lock (_lock)
        {
            using (var chk = Cmd("SELECT node_id FROM peers WHERE name=$n", ("$n", name)))
            {
                if (chk.ExecuteScalar() is string other && other != id.Canonical)
                {
                    throw new HaulException(ErrorCode.Usage, $"a different peer is already called '{name}'", "pick another --name or 'haul peer remove' the old one");
                }
            }

            using var c = Cmd(
                "INSERT INTO peers(node_id,name,address,added_at) VALUES($i,$n,$a,$t) ON CONFLICT(node_id) DO UPDATE SET name=excluded.name, address=COALESCE(excluded.address, peers.address)",
                ("$i", id.Canonical), ("$n", name), ("$a", (object?)address ?? DBNull.Value), ("$t", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            c.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Stops trusting a peer and revokes its folder grants with it, in one transaction: grants are keyed
    /// by node ID, so kept ones would come back, unasked, when the same node is added again under any name.
    /// </summary>
    public bool RemovePeer(string nameOrId)
    {
        var p = FindPeer(nameOrId);
        if (p is null)
        {
            return false;
        }

        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            using var shares = Cmd("DELETE FROM folder_shares WHERE peer_id=$i", ("$i", p.Id.Canonical));
            shares.Transaction = tx;
            shares.ExecuteNonQuery();
            using var c = Cmd("DELETE FROM peers WHERE node_id=$i", ("$i", p.Id.Canonical));
            c.Transaction = tx;
            bool removed = c.ExecuteNonQuery() > 0;
            tx.Commit();
            return removed;
        }
    }

    public IReadOnlyList<PeerRecord> ListPeers()
    {
        lock (_lock)
        {
            using var c = Cmd("SELECT node_id,name,address,added_at FROM peers ORDER BY name");
            return ReadPeers(c);
        }
    }

    public PeerRecord? FindPeer(string nameOrId)
    {
        string key = NodeId.TryParse(nameOrId, out var id) ? id.Canonical : nameOrId;
        lock (_lock)
        {
            using var c = Cmd("SELECT node_id,name,address,added_at FROM peers WHERE node_id=$k OR name=$k", ("$k", key));
            var list = ReadPeers(c);
            return list.Count > 0 ? list[0] : null;
        }
    }

    public PeerRecord? FindPeer(NodeId id) => FindPeer(id.Canonical);

    /// <summary><paramref name="wanted"/>, or wanted-2, -3, … if another node already has that name (shortened so the result stays within <see cref="NodeName.MaxLength"/>).</summary>
    public string UniquePeerName(string wanted, NodeId id)
    {
        string name = wanted;
        for (int i = 2; FindPeer(name) is { } p && p.Id != id; i++)
        {
            string suffix = "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            name = (wanted.Length + suffix.Length > NodeName.MaxLength ? wanted[..(NodeName.MaxLength - suffix.Length)] : wanted) + suffix;
        }

        return name;
    }

    public void AddInvite(byte[] secretHash, DateTimeOffset expires)
    {
        lock (_lock)
        {
            using var c = Cmd("INSERT INTO invites(secret_hash,expires_at) VALUES($h,$e)", ("$h", secretHash), ("$e", expires.ToUnixTimeSeconds()));
            c.ExecuteNonQuery();
        }
    }

    public bool HasPendingInvites()
    {
        lock (_lock)
        {
            using var c = Cmd("SELECT COUNT(*) FROM invites WHERE used=0 AND expires_at>$now", ("$now", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            return Convert.ToInt64(c.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
        }
    }

    /// <summary>Marks an unused, unexpired invite used; true only for the first caller.</summary>
    public bool ConsumeInvite(byte[] secretHash)
    {
        lock (_lock)
        {
            using var c = Cmd("UPDATE invites SET used=1 WHERE secret_hash=$h AND used=0 AND expires_at>$now", ("$h", secretHash), ("$now", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            return c.ExecuteNonQuery() == 1;
        }
    }

    /// <summary>Finds or creates the journal row of a transfer; the same manifest from the same peer resumes.</summary>
    public long BeginTransfer(string direction, string manifestHash, string peerId, string root, long files, long bytes)
    {
        lock (_lock)
        {
            using (var find = Cmd("SELECT id FROM transfers WHERE direction=$d AND manifest_hash=$m AND peer_id=$p", ("$d", direction), ("$m", manifestHash), ("$p", peerId)))
            {
                if (find.ExecuteScalar() is long existing)
                {
                    using var upd = Cmd("UPDATE transfers SET state='running' WHERE id=$id", ("$id", existing));
                    upd.ExecuteNonQuery();
                    return existing;
                }
            }

            using var c = Cmd(
                "INSERT INTO transfers(direction,manifest_hash,peer_id,root,state,files,bytes,started_at) VALUES($d,$m,$p,$r,'running',$f,$b,$t) RETURNING id",
                ("$d", direction), ("$m", manifestHash), ("$p", peerId), ("$r", root), ("$f", files), ("$b", bytes), ("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            return (long)c.ExecuteScalar()!;
        }
    }

    public void FinishTransfer(long id, string state)
    {
        lock (_lock)
        {
            using var c = Cmd("UPDATE transfers SET state=$s, finished_at=$t WHERE id=$id", ("$s", state), ("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), ("$id", id));
            c.ExecuteNonQuery();
        }
    }

    public string? TransferState(long id)
    {
        lock (_lock)
        {
            using var c = Cmd("SELECT state FROM transfers WHERE id=$id", ("$id", id));
            return c.ExecuteScalar() as string;
        }
    }

    public HashSet<int> DoneChunks(long transferId)
    {
        lock (_lock)
        {
            using var c = Cmd("SELECT chunk FROM chunk_done WHERE transfer_id=$id", ("$id", transferId));
            using var r = c.ExecuteReader();
            var set = new HashSet<int>();
            while (r.Read())
            {
                set.Add(r.GetInt32(0));
            }

            return set;
        }
    }

    /// <summary>Records verified, written chunks in one transaction (the caller batches them).</summary>
    public void MarkChunksDone(long transferId, IReadOnlyList<int> chunks)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            using var c = _db.CreateCommand();
            c.Transaction = tx;
            c.CommandText = "INSERT OR IGNORE INTO chunk_done(transfer_id,chunk) VALUES($t,$c)";
            var pt = c.Parameters.Add("$t", SqliteType.Integer);
            var pc = c.Parameters.Add("$c", SqliteType.Integer);
            pt.Value = transferId;
            c.Prepare();
            foreach (var ch in chunks)
            {
                pc.Value = ch;
                c.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    public void ForgetChunks(long transferId)
    {
        lock (_lock)
        {
            using var c = Cmd("DELETE FROM chunk_done WHERE transfer_id=$id", ("$id", transferId));
            c.ExecuteNonQuery();
        }
    }

    public void AddReceipt(ReceiptRecord r)
    {
        lock (_lock)
        {
            using var c = Cmd(
                "INSERT INTO receipts(manifest_hash,peer_id,peer_name,files,bytes,delivered_at,body,signature) VALUES($m,$p,$n,$f,$b,$t,$body,$sig)",
                ("$m", r.ManifestHash), ("$p", r.PeerId), ("$n", r.PeerName), ("$f", r.Files), ("$b", r.Bytes), ("$t", r.DeliveredAt.ToUnixTimeMilliseconds()), ("$body", r.Body), ("$sig", r.Signature));
            c.ExecuteNonQuery();
        }
    }

    public IReadOnlyList<ReceiptRecord> ListReceipts()
    {
        lock (_lock)
        {
            using var c = Cmd("SELECT manifest_hash,peer_id,peer_name,files,bytes,delivered_at,body,signature FROM receipts ORDER BY id");
            using var r = c.ExecuteReader();
            var list = new List<ReceiptRecord>();
            while (r.Read())
            {
                list.Add(new ReceiptRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), (byte[])r[6], (byte[])r[7]));
            }

            return list;
        }
    }

    /// <summary>Adds or re-points a named folder; its shares are kept.</summary>
    public void SetFolder(string name, string path)
    {
        lock (_lock)
        {
            using var c = Cmd(
                "INSERT INTO folders(name,path,added_at) VALUES($n,$p,$t) ON CONFLICT(name) DO UPDATE SET path=excluded.path",
                ("$n", name), ("$p", path), ("$t", DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
            c.ExecuteNonQuery();
        }
    }

    public bool RemoveFolder(string name)
    {
        lock (_lock)
        {
            using var c = Cmd("DELETE FROM folders WHERE name=$n", ("$n", name));
            return c.ExecuteNonQuery() > 0;
        }
    }

    /// <summary>Grants (or changes) a peer's access to a folder; <see cref="ShareAccess.None"/> revokes it.</summary>
    public void SetShare(string folder, NodeId peer, ShareAccess access)
    {
        lock (_lock)
        {
            using var c = access == ShareAccess.None
                ? Cmd("DELETE FROM folder_shares WHERE folder=$f AND peer_id=$p", ("$f", folder), ("$p", peer.Canonical))
                : Cmd("INSERT INTO folder_shares(folder,peer_id,access) VALUES($f,$p,$a) ON CONFLICT(folder,peer_id) DO UPDATE SET access=excluded.access", ("$f", folder), ("$p", peer.Canonical), ("$a", access.Wire()));
            c.ExecuteNonQuery();
        }
    }

    public FolderRecord? FindFolder(string name) => ListFolders().FirstOrDefault(f => f.Name == name);

    public IReadOnlyList<FolderRecord> ListFolders()
    {
        lock (_lock)
        {
            var folders = new List<(string Name, string Path)>();
            using (var c = Cmd("SELECT name,path FROM folders ORDER BY name"))
            using (var r = c.ExecuteReader())
            {
                while (r.Read())
                {
                    folders.Add((r.GetString(0), r.GetString(1)));
                }
            }

            var shares = new Dictionary<string, List<(string PeerId, ShareAccess Access)>>(StringComparer.Ordinal);
            using (var c = Cmd("SELECT folder,peer_id,access FROM folder_shares ORDER BY folder,peer_id"))
            using (var r = c.ExecuteReader())
            {
                while (r.Read())
                {
                    if (!shares.TryGetValue(r.GetString(0), out var l))
                    {
                        shares[r.GetString(0)] = l = [];
                    }

                    // A value this version does not know grants nothing.
                    l.Add((r.GetString(1), ShareAccessNames.TryParse(r.GetString(2), out var a) ? a : ShareAccess.None));
                }
            }

            return folders.Select(f => new FolderRecord(f.Name, f.Path, shares.TryGetValue(f.Name, out var l) ? l : [])).ToList();
        }
    }

    public void Dispose() => _db.Dispose();

    private void Exec(string sql)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private SqliteCommand Cmd(string sql, params (string Name, object Value)[] args)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var (n, v) in args)
        {
            c.Parameters.AddWithValue(n, v);
        }

        return c;
    }

    private static List<PeerRecord> ReadPeers(SqliteCommand c)
    {
        using var r = c.ExecuteReader();
        var list = new List<PeerRecord>();
        while (r.Read())
        {
            list.Add(new PeerRecord(NodeId.Parse(r.GetString(0)), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), DateTimeOffset.FromUnixTimeSeconds(r.GetInt64(3))));
        }

        return list;
    }
}
