import Testing
@testable import Store

@Suite struct MigratorTests {
    let directory = TemporaryDirectory()

    static let v1 = Migration(version: 1, name: "accounts", sql: "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")
    // Depends on v1: applying out of order would fail.
    static let v2 = Migration(
        version: 2, name: "keys",
        sql: """
            CREATE TABLE keys (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id));
            CREATE INDEX keys_by_account ON keys (account_id);
            """)
    static let v3 = Migration(version: 3, name: "accounts.note", sql: "ALTER TABLE accounts ADD COLUMN note TEXT;")

    private func tables(_ connection: SQLiteConnection) throws -> [String] {
        try connection.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { try $0.column(0) }
    }

    @Test func migrationsApplyInOrderAndRecordTheVersion() throws {
        let connection = try SQLiteConnection(path: directory.file())
        let applied = try Migrator([Self.v1, Self.v2, Self.v3]).migrate(connection)
        #expect(applied == [1, 2, 3])
        #expect(try Migrator.schemaVersion(of: connection) == 3)
        #expect(try tables(connection) == ["accounts", "keys"])
        try connection.run("INSERT INTO accounts (name, note) VALUES ('a', 'b')")
    }

    @Test func migrateIsIdempotent() throws {
        let connection = try SQLiteConnection(path: directory.file())
        let migrator = try Migrator([Self.v1, Self.v2])
        #expect(try migrator.migrate(connection) == [1, 2])
        #expect(try migrator.migrate(connection) == [])
        #expect(try Migrator.schemaVersion(of: SQLiteConnection(path: directory.file())) == 2)
    }

    @Test func aNewerBinaryAppliesOnlyTheMissingMigrations() throws {
        let connection = try SQLiteConnection(path: directory.file())
        try Migrator([Self.v1]).migrate(connection)
        try connection.run("INSERT INTO accounts (name) VALUES ('kept')")
        #expect(try Migrator([Self.v1, Self.v2, Self.v3]).migrate(connection) == [2, 3])
        #expect(try connection.queryOne("SELECT name FROM accounts")?.get("name", as: String.self) == "kept")
    }

    @Test func aSchemaNewerThanTheBinaryIsRefused() throws {
        let connection = try SQLiteConnection(path: directory.file())
        try Migrator([Self.v1, Self.v2, Self.v3]).migrate(connection)
        let error = #expect(throws: StoreError.self) { try Migrator([Self.v1, Self.v2]).migrate(connection) }
        #expect(error?.kind == .schemaTooNew)
        #expect(error?.schemaVersions?.found == 3)
        #expect(error?.schemaVersions?.known == 2)
        #expect(error?.message.contains("version 3") == true)
        #expect(try Migrator.schemaVersion(of: connection) == 3)
    }

    @Test func databaseOpenRefusesANewerSchema() async throws {
        let database = try Database.openForTest(directory, migrations: [Self.v1, Self.v2])
        await database.close()
        let error = #expect(throws: StoreError.self) { try Database.openForTest(directory, migrations: [Self.v1]) }
        #expect(error?.kind == .schemaTooNew)
        #expect(error?.schemaVersions?.found == 2)
    }

    @Test func aFailingMigrationIsRolledBackAndTheEarlierOnesStay() throws {
        let connection = try SQLiteConnection(path: directory.file())
        let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);")
        let error = #expect(throws: StoreError.self) { try Migrator([Self.v1, broken]).migrate(connection) }
        #expect(error?.kind == .sqlError)
        #expect(error?.message.contains("migration 2 (broken)") == true)
        #expect(try Migrator.schemaVersion(of: connection) == 1)
        #expect(try tables(connection) == ["accounts"])
        #expect(!connection.isInTransaction)
    }

    @Test func versionsMustRunOneTwoThree() {
        for list in [[Self.v2], [Self.v1, Self.v3], [Self.v1, Self.v1], [Self.v2, Self.v1]] {
            let error = #expect(throws: StoreError.self) { try Migrator(list) }
            #expect(error?.kind == .misuse)
        }
    }

    @Test func twoConnectionsMigratingTheSameFileApplyEachMigrationOnce() async throws {
        let path = directory.file()
        // A migration that fails if run twice (no IF NOT EXISTS).
        let migrations = [Self.v1, Self.v2, Self.v3]
        _ = try SQLiteConnection(path: path)  // creates the file and its WAL mode before the race
        let results = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<2 {
                group.addTask { try Migrator(migrations).migrate(SQLiteConnection(path: path)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.flatMap { $0 }.sorted() == [1, 2, 3])
    }
}
