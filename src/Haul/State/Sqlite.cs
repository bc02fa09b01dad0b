using Microsoft.Data.Sqlite;

namespace Haul.State;

/// <summary>How every Haul database is opened: its folder created, no pooling, WAL, 10 s busy wait, then the schema.</summary>
internal static class Sqlite
{
    public static SqliteConnection Open(string databasePath, string schema)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        db.Open();
        using var c = db.CreateCommand();
        c.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;\n" + schema;
        c.ExecuteNonQuery();
        return db;
    }
}
