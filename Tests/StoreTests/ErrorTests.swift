import Foundation
import Testing
@testable import Store

@Suite struct ConstraintErrorTests {
    let directory = TemporaryDirectory()

    private func connection() throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: directory.file())
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, size INTEGER CHECK (size >= 0));
            CREATE TABLE IF NOT EXISTS child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));
            INSERT OR IGNORE INTO parent (id, name, size) VALUES (1, 'one', 1);
            """)
        return connection
    }

    private func failure(_ sql: String, _ bindings: [any SQLiteValueConvertible] = []) throws -> StoreError? {
        let connection = try connection()
        return #expect(throws: StoreError.self) { try connection.run(sql, bindings) }
    }

    @Test func aUniqueConflictIsRecognisable() throws {
        let error = try #require(try failure("INSERT INTO parent (name) VALUES (?)", ["one"]))
        #expect(error.kind == .constraintViolation)
        #expect(error.constraint == .unique)
        #expect(error.isUniqueViolation)
        #expect(error.resultCode == 19 && error.extendedResultCode == 2067)
        #expect(error.message.contains("parent.name"))
        #expect(error.sql == "INSERT INTO parent (name) VALUES (?)")
    }

    @Test func aPrimaryKeyConflictCountsAsUnique() throws {
        let error = try #require(try failure("INSERT INTO parent (id, name) VALUES (1, 'other')"))
        #expect(error.constraint == .primaryKey)
        #expect(error.isUniqueViolation)
    }

    @Test func aDanglingReferenceIsAForeignKeyViolation() throws {
        let error = try #require(try failure("INSERT INTO child (parent_id) VALUES (99)"))
        #expect(error.kind == .constraintViolation)
        #expect(error.constraint == .foreignKey)
        #expect(!error.isUniqueViolation)
    }

    @Test func notNullAndCheckViolationsSayWhich() throws {
        #expect(try failure("INSERT INTO parent (name) VALUES (NULL)")?.constraint == .notNull)
        #expect(try failure("INSERT INTO parent (name, size) VALUES ('x', -1)")?.constraint == .check)
    }

    @Test func badSQLIsAnSQLErrorWithSQLitesMessage() throws {
        let error = try #require(try failure("INSERT INTO missing VALUES (1)"))
        #expect(error.kind == .sqlError)
        #expect(error.message == "no such table: missing")
        #expect(error.description.contains("INSERT INTO missing"))
    }
}

@Suite struct OpenErrorTests {
    let directory = TemporaryDirectory()

    @Test func aMissingDirectoryIsNamedInTheError() throws {
        let path = directory.path + "/absent/store.sqlite3"
        let error = #expect(throws: StoreError.self) { try SQLiteConnection(path: path) }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.path == path)
        #expect(error?.message.contains("\(directory.path)/absent does not exist") == true)
    }

    @Test func databaseOpenCreatesMissingParentDirectories() async throws {
        let path = directory.path + "/data/nested/gateway.sqlite3"
        let database = try Database.open(path: path, migrations: TestSchema.migrations)
        try await database.write { try $0.run("INSERT INTO items (name) VALUES ('a')") }
        await database.close()
        #expect(FileManager.default.fileExists(atPath: path))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/data")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func databaseOpenCanBeToldNotToCreateDirectories() throws {
        var configuration = DatabaseConfiguration()
        configuration.createsParentDirectory = false
        let error = #expect(throws: StoreError.self) {
            try Database.open(path: directory.path + "/data/gateway.sqlite3", configuration: configuration)
        }
        #expect(error?.kind == .cannotOpen)
    }

    @Test func aFileInPlaceOfADirectoryIsExplained() throws {
        _ = FileManager.default.createFile(atPath: directory.file("plain"), contents: Data("x".utf8))
        let error = #expect(throws: StoreError.self) { try Database.open(path: directory.path + "/plain/sub/store.sqlite3") }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.message.contains("not a directory") == true)
    }

    @Test func aDirectoryInPlaceOfTheFileIsExplained() throws {
        let error = #expect(throws: StoreError.self) { try SQLiteConnection(path: directory.path) }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.message.contains("is a directory") == true)
    }

    @Test(.enabled(if: getuid() != 0, "root bypasses file permissions"))
    func anUnwritableDirectoryIsAPermissionError() throws {
        let locked = directory.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: locked) }
        let error = #expect(throws: StoreError.self) { try Database.open(path: locked + "/store.sqlite3") }
        #expect(error?.kind == .cannotOpen)
        #expect(error?.message.contains("permission denied") == true)
        let nested = #expect(throws: StoreError.self) { try Database.open(path: locked + "/data/store.sqlite3") }
        #expect(nested?.message.contains("permission denied") == true)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAtOpen() throws {
        let path = directory.file("notes.txt")
        _ = FileManager.default.createFile(atPath: path, contents: Data(String(repeating: "not sqlite ", count: 200).utf8))
        let error = #expect(throws: StoreError.self) { try Database.open(path: path) }
        #expect(error?.kind == .notADatabase)
        #expect(error?.path == path)
    }
}
