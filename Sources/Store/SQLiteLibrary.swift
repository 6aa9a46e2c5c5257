import CSQLite

/// The SQLite library this process is linked against.
public enum SQLiteLibrary {
    /// "3.45.1": `sqlite3_libversion()`, the library actually loaded (not the header's).
    public static var version: String { String(cString: sqlite3_libversion()) }
}
