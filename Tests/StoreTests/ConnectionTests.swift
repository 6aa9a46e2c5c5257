import Testing
@testable import Store

@Suite struct StatementCacheTests {
    @Test func theSameSQLIsPreparedOnce() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file())
        try connection.execute("CREATE TABLE t (x INTEGER)")
        let before = connection.statementsPrepared
        for value in 0..<100 { try connection.run("INSERT INTO t (x) VALUES (?)", [value]) }
        for _ in 0..<100 { _ = try connection.query("SELECT count(*) FROM t") }
        #expect(connection.statementsPrepared == before + 2)
        #expect(try TestSchema.count(connection, "t") == 100)
    }

    @Test func aReusedStatementStartsResetWithNoBindings() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file())
        let first = try connection.prepare("SELECT ?")
        try first.bind(5, at: 1)
        #expect(try first.step())
        first.reset()
        let again = try connection.prepare("SELECT ?")
        #expect(again === first)
        #expect(try again.step())
        #expect(again.value(at: 0) == .null)
    }

    @Test func runningTheSameSQLInsideItsOwnLoopUsesASeparateStatement() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file())
        try connection.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
        let outer = try connection.prepare("SELECT x FROM t ORDER BY x")
        var seen: [Int] = []
        while try outer.step() {
            seen.append(try outer.column(0))
            // Would reset the outer cursor if it were handed the same statement.
            #expect(try connection.query("SELECT x FROM t ORDER BY x").count == 3)
        }
        #expect(seen == [1, 2, 3])
    }

    @Test func theCacheEvictsTheLeastRecentlyUsedStatement() {
        var cache = StatementCache<Int>(capacity: 2)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        #expect(cache.lookup("a") == 1)  // b is now the oldest
        #expect(cache.insert(3, for: "c") == 2)
        #expect(cache.lookup("b") == nil)
        #expect(cache.lookup("a") == 1)
        #expect(cache.lookup("c") == 3)
        #expect(cache.count == 2)
    }

    @Test func aConnectionKeepsAtMostItsCacheCapacity() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file(), configuration: .init(statementCacheCapacity: 4))
        for value in 0..<20 { _ = try connection.queryOne("SELECT \(value)") }
        #expect(connection.cachedStatementCount == 4)
    }

    @Test func prepareRefusesSeveralStatements() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file())
        let error = #expect(throws: StoreError.self) { try connection.prepare("SELECT 1; SELECT 2") }
        #expect(error?.kind == .misuse)
        _ = try connection.prepare("SELECT 1;  \n")
    }
}

@Suite struct ConnectionSetupTests {
    @Test func aConnectionRunsInWALWithFullSyncAndForeignKeys() throws {
        let directory = TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.file(), configuration: .init(busyTimeout: .milliseconds(1234)))
        #expect(try connection.queryOne("PRAGMA journal_mode")!.get(0, as: String.self) == "wal")
        #expect(try connection.queryOne("PRAGMA synchronous")!.get(0, as: Int.self) == 2)  // FULL
        #expect(try connection.queryOne("PRAGMA foreign_keys")!.get(0, as: Int.self) == 1)
        #expect(try connection.queryOne("PRAGMA busy_timeout")!.get(0, as: Int.self) == 1234)
        #expect(try connection.queryOne("PRAGMA temp_store")!.get(0, as: Int.self) == 2)  // MEMORY
    }

    @Test func aReadOnlyConnectionRefusesWrites() throws {
        let directory = TemporaryDirectory()
        try SQLiteConnection(path: directory.file()).execute("CREATE TABLE t (x)")
        let reader = try SQLiteConnection(path: directory.file(), mode: .readOnly)
        #expect(try TestSchema.count(reader, "t") == 0)
        let error = #expect(throws: StoreError.self) { try reader.run("INSERT INTO t VALUES (1)") }
        #expect(error?.kind == .readOnly)
    }

    @Test func aQueryOnlyConnectionRefusesWrites() throws {
        let directory = TemporaryDirectory()
        try SQLiteConnection(path: directory.file()).execute("CREATE TABLE t (x)")
        let reader = try SQLiteConnection(path: directory.file(), mode: .readWrite, configuration: .init(queryOnly: true))
        let error = #expect(throws: StoreError.self) { try reader.run("INSERT INTO t VALUES (1)") }
        #expect(error?.kind == .readOnly)
    }
}

@Suite struct TransactionTests {
    let directory = TemporaryDirectory()

    private func connection() throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: directory.file())
        try connection.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        return connection
    }

    struct Boom: Error {}

    @Test func aTransactionCommitsWhatItsBodyDid() throws {
        let connection = try connection()
        let answer = try connection.transaction { connection in
            try connection.run("INSERT INTO t VALUES (1)")
            try connection.run("INSERT INTO t VALUES (2)")
            return 42
        }
        #expect(answer == 42)
        #expect(!connection.isInTransaction)
        // Visible to another connection: committed, not merely in this one.
        #expect(try TestSchema.count(SQLiteConnection(path: directory.file()), "t") == 2)
    }

    @Test func aTransactionRollsBackWhenItsBodyThrows() throws {
        let connection = try connection()
        #expect(throws: Boom.self) {
            try connection.transaction { connection in
                try connection.run("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try TestSchema.count(connection, "t") == 0)
    }

    @Test func aTransactionRollsBackOnAFailingStatement() throws {
        let connection = try connection()
        let error = #expect(throws: StoreError.self) {
            try connection.transaction(.deferred) { connection in
                try connection.run("INSERT INTO t VALUES (1)")
                try connection.run("INSERT INTO t VALUES (1)")
            }
        }
        #expect(error?.isUniqueViolation == true)
        #expect(try TestSchema.count(connection, "t") == 0)
    }

    @Test func aSavepointRollsBackAloneInsideItsTransaction() throws {
        let connection = try connection()
        try connection.transaction { connection in
            try connection.run("INSERT INTO t VALUES (1)")
            #expect(throws: Boom.self) {
                try connection.savepoint("inner") { connection in
                    try connection.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            try connection.savepoint("kept") { try $0.run("INSERT INTO t VALUES (3)") }
        }
        #expect(try connection.query("SELECT x FROM t ORDER BY x") { try $0.column(0, as: Int.self) } == [1, 3])
    }

    @Test func aNestedTransactionBecomesASavepoint() throws {
        let connection = try connection()
        try connection.transaction { connection in
            try connection.run("INSERT INTO t VALUES (1)")
            #expect(throws: Boom.self) {
                try connection.transaction { connection in
                    try connection.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(connection.isInTransaction)
        }
        #expect(try connection.query("SELECT x FROM t") { try $0.column(0, as: Int.self) } == [1])
    }

    @Test func aSavepointNameIsQuoted() throws {
        let connection = try connection()
        try connection.savepoint("odd \" name; DROP TABLE t") { try $0.run("INSERT INTO t VALUES (1)") }
        #expect(try TestSchema.count(connection, "t") == 1)
    }
}
