import Synchronization
import Testing
@testable import Store

/// `afterCommit` actions run once their write's transaction committed, never for a failed write.
@Suite struct AfterCommitTests {
    let directory = TemporaryDirectory()

    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func actionsRunAfterCommitAndSeeTheCommittedRow() async throws {
        let database = try Database.openForTest(directory)
        let log = Log()
        let path = directory.file()
        try await database.write { connection in
            try connection.run("INSERT INTO items (name) VALUES ('a')")
            connection.afterCommit {
                // Another connection sees the row: the commit happened before the action.
                let count = (try? SQLiteConnection(path: path, mode: .readOnly).queryOne("SELECT count(*) FROM items")?.get(0, as: Int.self)) ?? -1
                log.add("committed \(count)")
            }
        }
        #expect(log.all == ["committed 1"])
    }

    @Test func actionsOfAFailedWriteNeverRun() async throws {
        let database = try Database.openForTest(directory)
        let log = Log()
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await database.write { connection in
                connection.afterCommit { log.add("failed write") }
                throw Refused()
            }
        }
        try await database.write { connection in connection.afterCommit { log.add("next write") } }
        #expect(log.all == ["next write"])
    }
}
