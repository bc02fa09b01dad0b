using Haul.Content;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Haul.State;

/// <summary>
/// <see cref="IChunkCache"/> in SQLite (HAUL_HOME/chunks.db, its own file so its writes never wait on the
/// tree index's batched transactions): per full path,
/// the stat it had and its chunk list (32-byte SHA-256 + u32 length each) for one set of FastCDC
/// parameters; and the node's chunk index (<c>chunk_at</c>: the first 8 bytes of each chunk's hash →
/// path and offset), so a receiver finds a chunk in any file this node has sent, received or scanned.
/// Index rows may be stale (the file changed or went); whoever uses one re-hashes what it reads. Writes are queued and made by one background writer, so a scan or a receiver
/// never waits on SQLite (it cost 3 s of a 20,000-file scan when done inline); they are batched (a
/// transaction ends after 1,000 rows, 250 ms, when the queue stays empty for 50 ms, and at Flush, so
/// other processes writing chunks.db are never held up for long); thread-safe. A cache that cannot be read or
/// written (locked for too long, damaged) is bypassed: it only saves reading files.
/// </summary>
internal sealed class ChunkCache : IChunkCache, IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();
    private readonly Lock _startLock = new();
    private SqliteTransaction? _tx;
    private int _pending;
    private long _txStarted;
    private long _hits;
    private long _misses;

    // Prepared once and re-bound: building a command per file cost more than the SQL itself (3 s for
    // 20,000 small files).
    private readonly SqliteCommand _get;

    // The writer's three statements stepped through SQLite's own API: Microsoft.Data.Sqlite runs every
    // ExecuteNonQuery through a data reader and converts each bound value, which made the per-file
    // put cost as much as the SQL (7% of a receiving node's CPU for 20,000 small files). Parameters
    // are bound by position: 1-7 path, size, mtime, inode, ctime, cdc, chunks; 1-3 key, path, offset.
    private readonly sqlite3_stmt _rawUpsert;
    private readonly sqlite3_stmt _rawForget;
    private readonly sqlite3_stmt _rawPlace;
    private readonly HashSet<long> _seen = [];
    private readonly System.Threading.Channels.Channel<Write> _writes = System.Threading.Channels.Channel.CreateUnbounded<Write>(new() { SingleReader = true });
    private Task? _writer;

    /// <summary>A queued put, or (Barrier set) a request to commit everything before it.</summary>
    private sealed record Write(string Path, FileStat Stat, string Cdc, byte[] Blob, TaskCompletionSource? Barrier = null);

    public ChunkCache(string databasePath)
    {
        _db = State.Sqlite.Open(databasePath, """
            CREATE TABLE IF NOT EXISTS chunk_lists(
            path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL, cdc TEXT NOT NULL, chunks BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS chunk_at(k INTEGER NOT NULL, path TEXT NOT NULL, off INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS chunk_at_k ON chunk_at(k);
            CREATE INDEX IF NOT EXISTS chunk_at_path ON chunk_at(path);
            """);
        _get = Command("SELECT size, mtime_ns, inode, ctime_ns, cdc, chunks FROM chunk_lists WHERE path=$p", "$p");
        _rawUpsert = Prepare("""
            INSERT INTO chunk_lists VALUES(?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET size=excluded.size,
            mtime_ns=excluded.mtime_ns, inode=excluded.inode, ctime_ns=excluded.ctime_ns, cdc=excluded.cdc, chunks=excluded.chunks
            """);
        _rawForget = Prepare("DELETE FROM chunk_at WHERE path=?");
        _rawPlace = Prepare("INSERT INTO chunk_at VALUES(?,?,?)");
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db.Handle, sql, out sqlite3_stmt stmt));
        return stmt;
    }

    private void Check(int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db.Handle).utf8_to_string(), rc);
        }
    }

    /// <summary>Steps a statement that returns no rows, then resets it for the next binding.</summary>
    private void Run(sqlite3_stmt stmt)
    {
        int rc = raw.sqlite3_step(stmt);
        raw.sqlite3_reset(stmt);
        Check(rc);
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        foreach (var p in parameters)
        {
            c.Parameters.Add(new SqliteParameter { ParameterName = p });
        }

        return c;
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
            var c = _get;
            c.Transaction = _tx;
            c.Parameters[0].Value = fullPath;
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

    private const int LocateBatch = 500;
    private SqliteCommand? _locate;

    private SqliteCommand LocateCommand(int n)
    {
        var names = Enumerable.Range(0, n).Select(j => "$k" + j.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return Command($"SELECT k, path, off FROM chunk_at WHERE k IN ({string.Join(',', names)})", names);
    }

    /// <summary>The index key of a chunk: its hash's first 8 bytes (collisions are resolved by re-hashing what is read).</summary>
    private static long Key(Hash256 h) => unchecked((long)h.A);

    public Dictionary<Hash256, List<(string Path, long Offset)>> Locate(IReadOnlyCollection<Hash256> hashes, Func<string, bool>? allow = null)
    {
        var found = new Dictionary<Hash256, List<(string Path, long Offset)>>();
        if (hashes.Count == 0)
        {
            return found;
        }

        var byKey = new Dictionary<long, List<Hash256>>();
        foreach (var h in hashes)
        {
            if (!byKey.TryGetValue(Key(h), out var l))
            {
                byKey[Key(h)] = l = [];
            }

            l.Add(h);
        }

        try
        {
            lock (_lock)
            {
                var keys = byKey.Keys.ToArray();
                for (int i = 0; i < keys.Length; i += LocateBatch)
                {
                    int n = Math.Min(LocateBatch, keys.Length - i);

                    // A full batch reuses one prepared command (20,000 files are 40 of them); the last, shorter one is built.
                    using var built = n == LocateBatch ? null : LocateCommand(n);
                    var c = built ?? (_locate ??= LocateCommand(LocateBatch));
                    c.Transaction = _tx;
                    for (int j = 0; j < n; j++)
                    {
                        c.Parameters[j].Value = keys[i + j];
                    }

                    using var r = c.ExecuteReader();
                    while (r.Read())
                    {
                        if (allow is not null && !allow(r.GetString(1)))
                        {
                            continue;
                        }

                        foreach (var h in byKey[r.GetInt64(0)])
                        {
                            if (!found.TryGetValue(h, out var at))
                            {
                                found[h] = at = [];
                            }

                            // A handful of places is plenty: each is verified by reading it.
                            if (at.Count < 4)
                            {
                                at.Add((r.GetString(1), r.GetInt64(2)));
                            }
                        }
                    }
                }
            }
        }
        catch (SqliteException)
        {
        }

        return found;
    }

    public void Put(string fullPath, FileStat st, FastCdc cdc, IReadOnlyList<ChunkInfo> chunks)
    {
        var blob = new byte[chunks.Count * 36];
        for (int i = 0; i < chunks.Count; i++)
        {
            chunks[i].Hash.Write(blob.AsSpan(i * 36, 32));
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan((i * 36) + 32, 4), chunks[i].Length);
        }

        Enqueue(new Write(fullPath, st, Params(cdc), blob));
    }

    private void Enqueue(Write w)
    {
        // Not under _lock: the writer holds it for each put, and a scan's threads queued behind it
        // (16% of a 20,000-file scan was spent spinning on that lock).
        if (Volatile.Read(ref _writer) is null)
        {
            lock (_startLock)
            {
                _writer ??= Task.Run(WriteLoopAsync);
            }
        }

        _writes.Writer.TryWrite(w);
    }

    private async Task WriteLoopAsync()
    {
        var reader = _writes.Reader;
        while (true)
        {
            while (reader.TryRead(out var w))
            {
                lock (_lock)
                {
                    try
                    {
                        if (w.Barrier is null)
                        {
                            PutCore(w.Path, w.Stat, w.Cdc, w.Blob);
                        }
                        else
                        {
                            Commit();
                        }
                    }
                    catch (SqliteException)
                    {
                        Abandon();
                    }
                }

                w.Barrier?.TrySetResult();
            }

            // Idle: commit what is pending once nothing more arrives for a moment.
            var more = reader.WaitToReadAsync().AsTask();
            if (await Task.WhenAny(more, Task.Delay(50)).ConfigureAwait(false) != more)
            {
                lock (_lock)
                {
                    try
                    {
                        Commit();
                    }
                    catch (SqliteException)
                    {
                        Abandon();
                    }
                }
            }

            if (!await more.ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private void Abandon()
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

    private void PutCore(string fullPath, FileStat st, string cdc, byte[] blob)
    {
        {
            if (_tx is null)
            {
                _tx = _db.BeginTransaction();
                _txStarted = Environment.TickCount64;
            }

            var u = _rawUpsert;
            raw.sqlite3_bind_text(u, 1, fullPath);
            raw.sqlite3_bind_int64(u, 2, st.Size);
            raw.sqlite3_bind_int64(u, 3, st.MtimeNs);
            raw.sqlite3_bind_int64(u, 4, st.Inode);
            raw.sqlite3_bind_int64(u, 5, st.CtimeNs);
            raw.sqlite3_bind_text(u, 6, cdc);
            raw.sqlite3_bind_blob(u, 7, blob);
            Run(u);

            raw.sqlite3_bind_text(_rawForget, 1, fullPath);
            Run(_rawForget);

            var place = _rawPlace;
            raw.sqlite3_bind_text(place, 2, fullPath);
            long off = 0;
            _seen.Clear();
            for (int i = 0; i + 36 <= blob.Length; i += 36)
            {
                long k = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(blob.AsSpan(i, 8));
                if (_seen.Add(k))
                {
                    raw.sqlite3_bind_int64(place, 1, k);
                    raw.sqlite3_bind_int64(place, 3, off);
                    Run(place);
                }

                off += System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(i + 32, 4));
            }

            if (++_pending >= 1000 || Environment.TickCount64 - _txStarted > 250)
            {
                Commit();
            }
        }
    }

    /// <summary>Waits until everything put so far is written and committed.</summary>
    public void Flush()
    {
        if (Volatile.Read(ref _writer) is not null)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Enqueue(new Write(string.Empty, default, string.Empty, [], done));
            done.Task.Wait();
        }
    }

    public void Dispose()
    {
        _writes.Writer.TryComplete();
        Task? writer;
        lock (_startLock)
        {
            writer = _writer;
        }

        writer?.Wait();
        lock (_lock)
        {
            try
            {
                Commit();
            }
            catch (SqliteException)
            {
                Abandon();
            }
        }

        _rawUpsert.Dispose();
        _rawForget.Dispose();
        _rawPlace.Dispose();
        _locate?.Dispose();
        _get.Dispose();
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
