using Haul.Content;
using Microsoft.Data.Sqlite;

namespace Haul.Sync;

/// <summary>
/// The tree index (HAUL_HOME/index.db): per root and path, the size, mtime, inode and ctime a file had
/// when it was last hashed, and its SHA-256. A file whose four values are unchanged is not read again.
/// Writes are batched in one transaction per 2,000 rows; <see cref="Dispose"/> commits the rest.
/// </summary>
internal sealed class TreeIndex : ITreeIndex
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();
    private readonly SqliteCommand _lookup;
    private readonly SqliteCommand _store;
    private readonly SqliteCommand _forget;
    private readonly SqliteCommand _lookupObject;
    private readonly SqliteCommand _storeObject;
    private SqliteTransaction? _tx;
    private int _pending;

    public TreeIndex(string databasePath)
    {
        _db = State.Sqlite.Open(databasePath, """
            CREATE TABLE IF NOT EXISTS files(
            root TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, sha256 BLOB NOT NULL,
            PRIMARY KEY(root, path)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS objects(
            root TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
            mtime_ticks INTEGER NOT NULL, sha256 BLOB NOT NULL,
            PRIMARY KEY(root, path)) WITHOUT ROWID;
            """);


        _lookup = Prepare("SELECT size, mtime_ns, inode, ctime_ns, sha256 FROM files WHERE root=$r AND path=$p", "$r", "$p");
        _store = Prepare("INSERT INTO files VALUES($r,$p,$s,$m,$i,$c,$h) ON CONFLICT(root,path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, inode=excluded.inode, ctime_ns=excluded.ctime_ns, sha256=excluded.sha256", "$r", "$p", "$s", "$m", "$i", "$c", "$h");
        _forget = Prepare("DELETE FROM files WHERE root=$r AND path=$p; DELETE FROM objects WHERE root=$r AND path=$p", "$r", "$p");
        _lookupObject = Prepare("SELECT mtime_ticks, sha256 FROM objects WHERE root=$r AND path=$p AND size=$s AND etag=$e", "$r", "$p", "$s", "$e");
        _storeObject = Prepare("INSERT INTO objects VALUES($r,$p,$s,$e,$m,$h) ON CONFLICT(root,path) DO UPDATE SET size=excluded.size, etag=excluded.etag, mtime_ticks=excluded.mtime_ticks, sha256=excluded.sha256", "$r", "$p", "$s", "$e", "$m", "$h");
    }

    /// <summary>
    /// What Haul knows of an object it wrote or inspected (its mtime and SHA-256 live in object metadata,
    /// which listings do not return): valid while the object's size and ETag are the same.
    /// </summary>
    public (long MtimeTicks, Hash256 Sha256)? LookupObject(string root, string path, long size, string etag)
    {
        lock (_lock)
        {
            var p = _lookupObject.Parameters;
            (p[0].Value, p[1].Value, p[2].Value, p[3].Value) = (root, path, size, etag);
            using var r = _lookupObject.ExecuteReader();
            return r.Read() ? (r.GetInt64(0), Hash256.Read((byte[])r.GetValue(1))) : null;
        }
    }

    public void StoreObject(string root, string path, long size, string etag, long mtimeTicks, Hash256 sha256)
    {
        lock (_lock)
        {
            Begin();
            var p = _storeObject.Parameters;
            (p[0].Value, p[1].Value, p[2].Value, p[3].Value, p[4].Value, p[5].Value) = (root, path, size, etag, mtimeTicks, sha256.ToArray());
            _storeObject.ExecuteNonQuery();
            Tick();
        }
    }

    public static TreeIndex ForHome(string home) => new(Path.Combine(home, "index.db"));

    public Hash256? Lookup(string root, string path, FileStat st)
    {
        lock (_lock)
        {
            _lookup.Parameters[0].Value = root;
            _lookup.Parameters[1].Value = path;
            using var r = _lookup.ExecuteReader();
            if (!r.Read() || r.GetInt64(0) != st.Size || r.GetInt64(1) != st.MtimeNs || r.GetInt64(2) != st.Inode || r.GetInt64(3) != st.CtimeNs)
            {
                return null;
            }

            return Hash256.Read((byte[])r.GetValue(4));
        }
    }

    public void Store(string root, string path, FileStat st, Hash256 hash)
    {
        lock (_lock)
        {
            Begin();
            var p = _store.Parameters;
            (p[0].Value, p[1].Value, p[2].Value, p[3].Value, p[4].Value, p[5].Value, p[6].Value) = (root, path, st.Size, st.MtimeNs, st.Inode, st.CtimeNs, hash.ToArray());
            _store.ExecuteNonQuery();
            Tick();
        }
    }

    public void Forget(string root, string path)
    {
        lock (_lock)
        {
            Begin();
            _forget.Parameters[0].Value = root;
            _forget.Parameters[1].Value = path;
            _forget.ExecuteNonQuery();
            Tick();
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            Commit();
        }
    }

    public void Dispose()
    {
        Flush();
        _lookup.Dispose();
        _store.Dispose();
        _forget.Dispose();
        _lookupObject.Dispose();
        _storeObject.Dispose();
        _db.Dispose();
    }

    private void Begin()
    {
        if (_tx is null)
        {
            _tx = _db.BeginTransaction();
            _lookup.Transaction = _store.Transaction = _forget.Transaction = _lookupObject.Transaction = _storeObject.Transaction = _tx;
        }
    }

    private void Tick()
    {
        if (++_pending >= 2000)
        {
            Commit();
        }
    }

    private void Commit()
    {
        if (_tx is null)
        {
            return;
        }

        _tx.Commit();
        _tx.Dispose();
        _tx = null;
        _lookup.Transaction = _store.Transaction = _forget.Transaction = _lookupObject.Transaction = _storeObject.Transaction = null;
        _pending = 0;
    }

    private SqliteCommand Prepare(string sql, params string[] names)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var n in names)
        {
            c.Parameters.Add(new SqliteParameter(n, null));
        }

        return c;
    }
}
