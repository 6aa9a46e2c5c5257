import ChildProcess
import Foundation
import Testing
@testable import Store

@Suite struct DatabaseTests {
    let directory = TemporaryDirectory()

    struct Refused: Error {}

    @Test func aWriteIsCommittedWhenItReturns() async throws {
        let database = try Database.openForTest(directory)
        let id = try await database.write { connection in
            try connection.run("INSERT INTO items (name, quantity) VALUES ('a', 3)")
            return connection.lastInsertRowId
        }
        // Another connection, as another process would, sees it at once.
        let other = try SQLiteConnection(path: directory.file(), mode: .readOnly)
        #expect(try other.queryOne("SELECT quantity FROM items WHERE id = ?", [id])?.get(0, as: Int.self) == 3)
        await database.close()
    }

    @Test func aWriteThatThrowsLeavesNothingBehind() async throws {
        let database = try Database.openForTest(directory)
        await #expect(throws: Refused.self) {
            try await database.write { connection in
                try connection.run("INSERT INTO items (name) VALUES ('a')")
                throw Refused()
            }
        }
        #expect(try await database.read { try TestSchema.count($0) } == 0)
        #expect(database.statistics.failedWrites == 1)
        await database.close()
    }

    @Test func aTransactionInsideAWriteIsASavepoint() async throws {
        let database = try Database.openForTest(directory)
        try await database.write { connection in
            try connection.run("INSERT INTO items (name) VALUES ('kept')")
            _ = try? connection.transaction { connection in
                try connection.run("INSERT INTO items (name) VALUES ('undone')")
                throw Refused()
            }
        }
        #expect(try await database.read { try $0.query("SELECT name FROM items") { try $0.column(0, as: String.self) } } == ["kept"])
        await database.close()
    }

    @Test func aReadSeesEveryWriteThatReturnedBeforeIt() async throws {
        let database = try Database.openForTest(directory)
        for number in 1...20 {
            try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["n\(number)"]) }
            #expect(try await database.read { try TestSchema.count($0) } == number)
        }
        await database.close()
    }

    @Test func readsRunWhileAWriteTransactionIsOpen() async throws {
        let database = try Database.openForTest(directory)
        try await database.write { try $0.run("INSERT INTO items (name) VALUES ('committed')") }
        let gate = ThreadGate()
        let write = Task {
            try await database.write { connection in
                try connection.run("INSERT INTO items (name) VALUES ('pending')")
                gate.pass()
            }
        }
        await gate.waitForArrival()
        // The writer is inside its transaction; a read neither waits nor sees the pending row.
        #expect(try await database.read { try TestSchema.count($0) } == 1)
        gate.open()
        try await write.value
        #expect(try await database.read { try TestSchema.count($0) } == 2)
        await database.close()
    }

    @Test func readersRunConcurrently() async throws {
        let database = try Database.openForTest(directory) { $0.readerCount = 3 }
        let gate = ThreadGate()
        let reads = (0..<3).map { _ in
            Task {
                try await database.read { connection in
                    gate.pass(); return try TestSchema.count(connection)
                }
            }
        }
        await gate.waitForArrival(count: 3)  // three bodies inside at once
        gate.open()
        for read in reads { #expect(try await read.value == 0) }
        #expect(database.statistics.reads == 3)
        await database.close()
    }

    @Test func aReadSeesOneSnapshotAcrossItsQueries() async throws {
        let database = try Database.openForTest(directory)
        let gate = ThreadGate()
        let read = Task {
            try await database.read { connection -> (Int, Int) in
                let before = try TestSchema.count(connection)
                gate.pass()
                return (before, try TestSchema.count(connection))
            }
        }
        await gate.waitForArrival()
        try await database.write { try $0.run("INSERT INTO items (name) VALUES ('meanwhile')") }
        gate.open()
        let (before, after) = try await read.value
        #expect(before == 0 && after == 0)
        await database.close()
    }

    @Test func aReadCannotWrite() async throws {
        let database = try Database.openForTest(directory)
        let error = await #expect(throws: StoreError.self) {
            try await database.read { try $0.run("INSERT INTO items (name) VALUES ('x')") }
        }
        #expect(error?.kind == .readOnly)
        await #expect(throws: Refused.self) { try await database.read { _ in throw Refused() } }
        await database.close()
    }

    @Test func aWriteWaitsForAnotherProcessesLockThenFailsAsBusy() async throws {
        let database = try Database.openForTest(directory) { $0.busyTimeout = .milliseconds(200) }
        let other = try SQLiteConnection(path: directory.file())
        try other.execute("BEGIN IMMEDIATE; INSERT INTO items (name) VALUES ('theirs');")
        let started = ContinuousClock.now
        let error = await #expect(throws: StoreError.self) {
            try await database.write { try $0.run("INSERT INTO items (name) VALUES ('ours')") }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(error?.kind == .busy)
        #expect(error?.message.contains("held the lock beyond the busy timeout of 200 ms") == true)
        #expect(error?.path == directory.file())
        // Once the other process commits, writes go through again.
        try other.execute("COMMIT")
        try await database.write { try $0.run("INSERT INTO items (name) VALUES ('ours')") }
        #expect(try await database.read { try TestSchema.count($0) } == 2)
        await database.close()
    }

    @Test func openingWhileAnotherProcessHoldsTheLockFailsAsBusyWhenAMigrationMustRun() throws {
        let path = directory.file()
        let other = try SQLiteConnection(path: path)
        try other.execute("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
        let error = #expect(throws: StoreError.self) {
            try Database.openForTest(directory) { $0.busyTimeout = .milliseconds(100) }
        }
        #expect(error?.kind == .busy)
        try other.execute("ROLLBACK")
    }

    @Test func twoDatabasesOnOneFileBothWrite() async throws {
        let first = try Database.openForTest(directory)
        let second = try Database.openForTest(directory)  // a `keys` CLI next to the gateway
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<100 {
                group.addTask { _ = try await first.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["first \(number)"]) } }
                group.addTask { _ = try await second.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["second \(number)"]) } }
            }
            try await group.waitForAll()
        }
        #expect(try await first.read { try TestSchema.count($0) } == 200)
        #expect(try await second.read { try TestSchema.count($0) } == 200)
        await first.close()
        await second.close()
    }

    @Test func writesSurviveCloseAndReopen() async throws {
        var database = try Database.openForTest(directory)
        try await database.write { try $0.run("INSERT INTO items (name, quantity) VALUES ('durable', 7)") }
        await database.close()
        database = try Database.openForTest(directory)
        #expect(try await database.read { try $0.queryOne("SELECT quantity FROM items")?.get(0, as: Int.self) } == 7)
        await database.close()
    }

    @Test func committedWritesAreOnDiskWithoutAClose() async throws {
        let database = try Database.openForTest(directory)
        for number in 0..<10 {
            try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["n\(number)"]) }
        }
        // What a crash leaves: the database file and its WAL as they are now, no clean close, no
        // checkpoint. Copied while the writer still has them open.
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: directory.file() + suffix, toPath: directory.file("crashed.sqlite3") + suffix)
        }
        let recovered = try Database.openForTest(directory, name: "crashed.sqlite3")
        #expect(try await recovered.read { try TestSchema.count($0) } == 10)
        await recovered.close()
        await database.close()
    }

    @Test func droppingADatabaseWithoutCloseKeepsWhatWasCommitted() async throws {
        var database: Database? = try Database.openForTest(directory)
        try await database!.write { try $0.run("INSERT INTO items (name) VALUES ('acknowledged')") }
        database = nil
        let reopened = try Database.openForTest(directory)
        #expect(try await reopened.read { try TestSchema.count($0) } == 1)
        await reopened.close()
    }

    @Test func closeFinishesQueuedWritesThenRefusesNewOnes() async throws {
        let database = try Database.openForTest(directory)
        let gate = ThreadGate()
        let first = Task { try await database.write { _ in gate.pass() } }
        await gate.waitForArrival()
        let queued = (0..<10).map { number in
            Task { try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["q\(number)"]) } }
        }
        #expect(await eventually { database.statistics.queuedWrites == 10 })
        let closing = Task { await database.close() }
        // close() has begun once the (idle) readers refuse work.
        while (try? await database.read { _ in }) != nil { try await Task.sleep(for: .milliseconds(1)) }
        gate.open()
        try await first.value
        for write in queued { #expect(try await write.value == 1) }
        await closing.value
        let error = await #expect(throws: StoreError.self) { try await database.write { _ in } }
        #expect(error?.kind == .closed)
        await #expect(throws: StoreError.self) { try await database.read { _ in } }
        await database.close()  // idempotent
        #expect(try TestSchema.count(SQLiteConnection(path: directory.file())) == 10)
    }

    @Test func anInvalidConfigurationIsMisuse() {
        let error = #expect(throws: StoreError.self) { try Database.openForTest(directory) { $0.readerCount = 0 } }
        #expect(error?.kind == .misuse)
        // Every connection would see its own empty database.
        #expect(throws: StoreError.self) { try Database.open(path: ":memory:") }
    }
}
