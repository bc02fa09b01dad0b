using Haul.Content;
using Microsoft.Data.Sqlite;

namespace Haul.State;

/// <summary>
/// <see cref="IChunkCache"/> in SQLite (HAUL_HOME/chunks.db, its own file so its writes never wait on the
/// tree index's batched transactions): per full path,
/// the stat it had and its chunk list (32-byte SHA-256 + u32 length each) for one set of FastCDC
/// parameters. Writes are batched (a transaction ends after 1,000 rows or 250 ms, and at Flush, so other
/// processes writing chunks.db are never held up for long); thread-safe. A cache that cannot be read or
/// written (locked for too long, damaged) is bypassed: it only saves reading files.
/// </summary>
internal sealed class ChunkCache : IChunkCache, IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();
    private SqliteTransaction? _tx;
    private int _pending;
    private long _txStarted;
    private long _hits;
    private long _misses;

    public ChunkCache(string databasePath)
    {
        _db = State.Sqlite.Open(databasePath, """
            CREATE TABLE IF NOT EXISTS chunk_lists(
            path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL, cdc TEXT NOT NULL, chunks BLOB NOT NULL) WITHOUT ROWID;
            """);
    }

    public static ChunkCache ForHome(string home) => new(Path.Combine(home, "chunks.db"));

    /// <summary>Lookups answered from the cache (for tests and diagnostics).</summary>
    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    private static string Params(FastCdc cdc) => $"{cdc.Min}/{cdc.Avg}/{cdc.Max}";

    public List<ChunkInfo>? Get(string fullPath, FileStat st, FastCdc cdc)
    {
        try
        {
            return GetCore(fullPath, st, cdc);
        }
        catch (SqliteException)
        {
            Interlocked.Increment(ref _misses);
            return null;
        }
    }

    private List<ChunkInfo>? GetCore(string fullPath, FileStat st, FastCdc cdc)
    {
        lock (_lock)
        {
            using var c = _db.CreateCommand();
            c.Transaction = _tx;
            c.CommandText = "SELECT size, mtime_ns, inode, ctime_ns, cdc, chunks FROM chunk_lists WHERE path=$p";
            c.Parameters.AddWithValue("$p", fullPath);
            using var r = c.ExecuteReader();
            if (!r.Read() || r.GetInt64(0) != st.Size || r.GetInt64(1) != st.MtimeNs || r.GetInt64(2) != st.Inode
                || r.GetInt64(3) != st.CtimeNs || r.GetString(4) != Params(cdc))
            {
                Interlocked.Increment(ref _misses);
                return null;
            }

            var blob = (byte[])r.GetValue(5);
            var list = new List<ChunkInfo>(blob.Length / 36);
            long total = 0;
            for (int i = 0; i + 36 <= blob.Length; i += 36)
            {
                int len = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(i + 32, 4));
                list.Add(new ChunkInfo(Hash256.Read(blob.AsSpan(i, 32)), len));
                total += len;
            }

            if (total != st.Size)
            {
                Interlocked.Increment(ref _misses);
                return null;
            }

            Interlocked.Increment(ref _hits);
            return list;
        }
    }

    public void Put(string fullPath, FileStat st, FastCdc cdc, IReadOnlyList<ChunkInfo> chunks)
    {
        var blob = new byte[chunks.Count * 36];
        for (int i = 0; i < chunks.Count; i++)
        {
            chunks[i].Hash.Write(blob.AsSpan(i * 36, 32));
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan((i * 36) + 32, 4), chunks[i].Length);
        }

        try
        {
            PutCore(fullPath, st, cdc, blob);
        }
        catch (SqliteException)
        {
            lock (_lock)
            {
                try
                {
                    _tx?.Rollback();
                }
                catch (SqliteException)
                {
                }

                _tx?.Dispose();
                _tx = null;
                _pending = 0;
            }
        }
    }

    private void PutCore(string fullPath, FileStat st, FastCdc cdc, byte[] blob)
    {
        lock (_lock)
        {
            if (_tx is null)
            {
                _tx = _db.BeginTransaction();
                _txStarted = Environment.TickCount64;
            }

            using var c = _db.CreateCommand();
            c.Transaction = _tx;
            c.CommandText = """
                INSERT INTO chunk_lists VALUES($p,$s,$m,$i,$c,$d,$b) ON CONFLICT(path) DO UPDATE SET size=excluded.size,
                mtime_ns=excluded.mtime_ns, inode=excluded.inode, ctime_ns=excluded.ctime_ns, cdc=excluded.cdc, chunks=excluded.chunks
                """;
            c.Parameters.AddWithValue("$p", fullPath);
            c.Parameters.AddWithValue("$s", st.Size);
            c.Parameters.AddWithValue("$m", st.MtimeNs);
            c.Parameters.AddWithValue("$i", st.Inode);
            c.Parameters.AddWithValue("$c", st.CtimeNs);
            c.Parameters.AddWithValue("$d", Params(cdc));
            c.Parameters.AddWithValue("$b", blob);
            c.ExecuteNonQuery();
            if (++_pending >= 1000 || Environment.TickCount64 - _txStarted > 250)
            {
                Commit();
            }
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            try
            {
                Commit();
            }
            catch (SqliteException)
            {
                _tx?.Dispose();
                _tx = null;
                _pending = 0;
            }
        }
    }

    public void Dispose()
    {
        Flush();
        _db.Dispose();
    }

    private void Commit()
    {
        _tx?.Commit();
        _tx?.Dispose();
        _tx = null;
        _pending = 0;
    }
}
