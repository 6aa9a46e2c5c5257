import Store

#if canImport(Glibc)
    import Glibc
#endif

/// `rokt-gateway backup`: a consistent copy of a database another process may be writing.
/// `VACUUM INTO` reads one snapshot (a WAL reader never blocks the gateway's writer) and writes
/// a compact, self-contained file: restoring is copying it back to DATABASE_PATH while no
/// gateway runs.
enum SQLiteBackup {
    static func copy(databaseAt source: String, to destination: String) throws {
        // Created here, empty and 0600 (VACUUM INTO accepts an empty file): the copy holds the
        // same secrets as the database, and O_EXCL refuses to overwrite anything.
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            throw BackupError(
                description: code == EEXIST
                    ? "\(destination) already exists; the backup never overwrites a file"
                    : "cannot create \(destination): \(String(cString: strerror(code))) (errno \(code))")
        }
        close(fd)
        do {
            // Its own connection, never the store's: VACUUM cannot run inside a transaction.
            let connection = try SQLiteConnection(path: source, mode: .readWrite)
            _ = try connection.run("VACUUM INTO ?", [destination])
            // SQLite does not fsync what VACUUM INTO writes: a copy reported done must survive a power cut.
            let written = open(destination, O_RDONLY | O_CLOEXEC)
            defer { if written >= 0 { close(written) } }
            guard written >= 0, fsync(written) == 0 else {
                let code = errno
                throw BackupError(description: "cannot flush \(destination) to disk: \(String(cString: strerror(code))) (errno \(code))")
            }
        } catch {
            unlink(destination)
            throw error
        }
    }

    /// The schema version of the file at `path` and the version this build migrates to, read
    /// without migrating (nil: no file yet).
    static func schemaVersions(databaseAt path: String) throws -> (current: Int?, expected: Int) {
        let expected = try Migrator(Schema.migrations).knownVersion
        guard access(path, F_OK) == 0 else { return (nil, expected) }
        let connection = try SQLiteConnection(path: path, mode: .readOnly)
        return (try Migrator.schemaVersion(of: connection), expected)
    }
}

struct BackupError: Error, CustomStringConvertible {
    let description: String
}
