import ChildProcess
import Synchronization
import Testing
@testable import Store

@Suite struct GroupCommitTests {
    let directory = TemporaryDirectory()

    /// Holds the writer inside a first write until `count` more writes are queued behind it,
    /// then lets it go: those writes are then all waiting when the batch goes on. Answers the
    /// first write's error, if it failed.
    @discardableResult
    private func holdWriter(
        _ database: Database, until count: Int, whileQueueing queue: @escaping @Sendable () async -> Void
    ) async -> (any Error)? {
        let gate = ThreadGate()
        let first = Task {
            try await database.write { connection in
                gate.pass()
                try connection.run("INSERT INTO items (name) VALUES ('first')")
            }
        }
        await gate.waitForArrival()
        async let queued: Void = queue()
        #expect(await eventually { database.statistics.queuedWrites == count })
        gate.open()
        await queued
        return await first.result.error
    }

    @Test func concurrentWritesShareCommits() async throws {
        let database = try Database.openForTest(directory)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<200 {
                group.addTask { _ = try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["item \(number)"]) } }
            }
            try await group.waitForAll()
        }
        let statistics = database.statistics
        #expect(statistics.committedWrites == 200)
        #expect(statistics.commits < 200)
        #expect(try await database.read { try TestSchema.count($0) } == 200)
        await database.close()
    }

    @Test func writesQueuedBehindABusyWriterCommitTogether() async throws {
        // A generous time budget, so that only the size bound could split the batch (slow CI, sanitizers).
        let database = try Database.openForTest(directory) { $0.maxBatchDuration = .seconds(30) }
        await holdWriter(database, until: 199) {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<199 {
                    group.addTask {
                        await expectSuccess { try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["item \(number)"]) } }
                    }
                }
            }
        }
        // The first write's batch may close on its time budget while it is held: at most two commits.
        #expect(database.statistics.commits <= 2)
        #expect(database.statistics.committedWrites == 200)
        #expect(try await database.read { try TestSchema.count($0) } == 200)
        await database.close()
    }

    @Test func aFailingWriteIsRolledBackAloneAndTheOthersCommit() async throws {
        let database = try Database.openForTest(directory)
        let outcomes = Outcomes()
        await holdWriter(database, until: 10) {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<10 {
                    group.addTask {
                        do {
                            try await database.write { connection in
                                try connection.run("INSERT INTO items (name, quantity) VALUES (?, 1)", ["item \(number)"])
                                // Write 4 also inserts a name another write uses: a UNIQUE conflict after its first insert.
                                if number == 4 { try connection.run("INSERT INTO items (name) VALUES ('item 5')") }
                            }
                            outcomes.record(number, nil)
                        } catch {
                            outcomes.record(number, error as? StoreError)
                        }
                    }
                }
            }
        }
        let failed = outcomes.failures
        // Whichever of 4 and 5 ran second failed; the other nine committed.
        #expect(failed.count == 1)
        #expect(failed.first?.error.isUniqueViolation == true)
        #expect(database.statistics.failedWrites == 1)
        let names = try await database.read { try $0.query("SELECT name FROM items") { try $0.column(0, as: String.self) } }
        // If 4 failed, its own first insert was rolled back with it; if 5 failed, 4 inserted 'item 5'.
        var expected = Set(["first"] + (0..<10).map { "item \($0)" })
        if failed.first?.number == 4 { expected.remove("item 4") }
        #expect(Set(names) == expected)
        #expect(names.count == expected.count)
        await database.close()
    }

    @Test func aDeferredForeignKeyViolationFailsOnlyItsWrite() async throws {
        let schema =
            TestSchema.migrations + [
                Migration(
                    version: 2, name: "tags",
                    sql: """
                        CREATE TABLE tags (id INTEGER PRIMARY KEY,
                            item_id INTEGER NOT NULL REFERENCES items(id) DEFERRABLE INITIALLY DEFERRED);
                        """)
            ]
        let database = try Database.openForTest(directory, migrations: schema)
        let outcomes = Outcomes()
        await holdWriter(database, until: 3) {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<3 {
                    group.addTask {
                        do {
                            try await database.write { connection in
                                let itemId = number == 1 ? 999 : nil  // 999 does not exist: only caught at COMMIT
                                try connection.run("INSERT INTO items (name) VALUES (?)", ["item \(number)"])
                                try connection.run("INSERT INTO tags (item_id) VALUES (?)", [itemId ?? connection.lastInsertRowId])
                            }
                            outcomes.record(number, nil)
                        } catch {
                            outcomes.record(number, error as? StoreError)
                        }
                    }
                }
            }
        }
        #expect(outcomes.failures.map(\.number) == [1])
        #expect(outcomes.failures.first?.error.constraint == .foreignKey)
        #expect(try await database.read { try TestSchema.count($0, "tags") } == 2)
        await database.close()
    }

    @Test func aFailedCommitFailsEveryWriteOfTheBatch() async throws {
        let database = try Database.openForTest(directory)
        let outcomes = Outcomes()
        let gate = ThreadGate()
        let first = Task {
            try await database.write { connection in
                gate.pass()
                connection.vetoCommits(true)
                try connection.run("INSERT INTO items (name) VALUES ('first')")
            }
        }
        await gate.waitForArrival()
        async let queued: Void = withTaskGroup(of: Void.self) { group in
            for number in 0..<5 {
                group.addTask {
                    do {
                        try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["item \(number)"]) }
                        outcomes.record(number, nil)
                    } catch {
                        outcomes.record(number, error as? StoreError)
                    }
                }
            }
        }
        #expect(await eventually { database.statistics.queuedWrites == 5 })
        gate.open()
        let firstError = await #expect(throws: StoreError.self) { try await first.value }
        await queued
        #expect(firstError?.kind == .constraintViolation)
        #expect(firstError?.extendedResultCode == ExtendedResultCode.constraintCommitHook)
        #expect(outcomes.failures.count == 5)
        #expect(database.statistics.commits == 0)
        // The next batch commits again once the veto is lifted.
        try await database.write { connection in
            connection.vetoCommits(false)
            try connection.run("INSERT INTO items (name) VALUES ('after')")
        }
        #expect(try await database.read { try $0.query("SELECT name FROM items") { try $0.column(0, as: String.self) } } == ["after"])
        await database.close()
    }

    @Test func aWriteThatEndsTheBatchTransactionItselfIsMisuseAndTheBatchIsAborted() async throws {
        let database = try Database.openForTest(directory) { $0.maxBatchDuration = .seconds(30) }
        let outcomes = Outcomes()
        let firstError = await holdWriter(database, until: 3) {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<3 {
                    group.addTask {
                        do {
                            try await database.write { connection in
                                try connection.run("INSERT INTO items (name) VALUES (?)", ["item \(number)"])
                                if number == 1 { try connection.execute("ROLLBACK") }
                            }
                            outcomes.record(number, nil)
                        } catch {
                            outcomes.record(number, error as? StoreError)
                        }
                    }
                }
            }
        }
        // Queue order decides which writes shared the batch with the offender: those before it
        // are aborted, those after it run in a new batch and commit.
        let failures = outcomes.failures
        let offender = try #require(failures.first { $0.error.kind == .misuse })
        #expect(offender.number == 1)
        #expect(failures.allSatisfy { $0.number == 1 || $0.error.kind == .transactionAborted })
        let names = try await database.read { try $0.query("SELECT name FROM items") { try $0.column(0, as: String.self) } }
        #expect(!names.contains("item 1"))
        #expect((firstError as? StoreError)?.kind == .transactionAborted)
        #expect(names.count + failures.count == 3)  // 'first' was aborted along with the earlier writes
        #expect(try await database.write { _ in 42 } == 42)  // the writer carries on
        await database.close()
    }

    @Test func aBatchHoldsAtMostMaxBatchSizeWrites() async throws {
        let database = try Database.openForTest(directory) { $0.maxBatchSize = 10 }
        await holdWriter(database, until: 49) {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<49 {
                    group.addTask { _ = try? await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["item \(number)"]) } }
                }
            }
        }
        #expect(database.statistics.committedWrites == 50)
        #expect(database.statistics.commits >= 5)
        await database.close()
    }

    @Test func aFullWriteQueueAnswersOverloaded() async throws {
        let database = try Database.openForTest(directory) { $0.maxQueuedWrites = 3 }
        let gate = ThreadGate()
        let first = Task { try await database.write { _ in gate.pass() } }
        await gate.waitForArrival()
        let queued = Task {
            await withTaskGroup(of: Void.self) { group in
                for number in 0..<3 {
                    group.addTask {
                        await expectSuccess { try await database.write { try $0.run("INSERT INTO items (name) VALUES (?)", ["q\(number)"]) } }
                    }
                }
            }
        }
        #expect(await eventually { database.statistics.queuedWrites == 3 })
        let error = await #expect(throws: StoreError.self) { try await database.write { _ in } }
        #expect(error?.kind == .overloaded)
        #expect(error?.message.contains("3 waiting") == true)
        gate.open()
        try await first.value
        await queued.value
        #expect(try await database.read { try TestSchema.count($0) } == 3)
        await database.close()
    }
}

/// What each of several concurrent writes ended with.
final class Outcomes: Sendable {
    struct Failure { let number: Int; let error: StoreError }
    private let state = Mutex<[Int: StoreError?]>([:])
    func record(_ number: Int, _ error: StoreError?) { state.withLock { $0[number] = .some(error) } }
    var failures: [Failure] {
        state.withLock { $0.compactMap { number, error in error.map { Failure(number: number, error: $0) } }.sorted { $0.number < $1.number } }
    }
}

/// Records an issue when `body` throws.
func expectSuccess<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async {
    do { _ = try await body() } catch { Issue.record(error, sourceLocation: sourceLocation) }
}

extension Result {
    var error: Failure? { if case .failure(let error) = self { error } else { nil } }
}
