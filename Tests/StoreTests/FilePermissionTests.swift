import Foundation
import Testing
@testable import Store

/// The database holds secrets: what the Store creates, only its owner can read.
@Suite struct FilePermissionTests {
    let directory = TemporaryDirectory()

    static func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func createdDirectoriesAre0700AndTheDatabaseWalAndShm0600() async throws {
        let path = directory.path + "/data/nested/gateway.sqlite3"
        let database = try Database.open(path: path, migrations: TestSchema.migrations)
        try await database.write { try $0.run("INSERT INTO items (name) VALUES ('secret')") }
        // While open, the WAL and the shared-memory index exist beside the file.
        let modes = try [path, path + "-wal", path + "-shm"].map(Self.mode)
        let directories = try [directory.path + "/data", directory.path + "/data/nested"].map(Self.mode)
        await database.close()
        #expect(modes == [0o600, 0o600, 0o600])
        #expect(directories == [0o700, 0o700])
    }

    @Test func aDirectoryThatExistsKeepsItsMode() async throws {
        let existing = directory.file("shared")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let connection = try SQLiteConnection(path: existing + "/store.sqlite3")
        try connection.execute("CREATE TABLE t (x)")
        #expect(try Self.mode(existing) == 0o755)
        #expect(try Self.mode(existing + "/store.sqlite3") == 0o600)
    }

    @Test func anExistingDatabaseKeepsItsMode() async throws {
        let path = directory.file()
        _ = try SQLiteConnection(path: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let connection = try SQLiteConnection(path: path)
        try connection.execute("CREATE TABLE t (x)")
        #expect(try Self.mode(path) == 0o640)
    }
}
