import ChildProcess
import Foundation
import Synchronization
@testable import Store

/// A fresh directory under /tmp for one test's database files, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        var template = Array("/tmp/store-tests-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed: errno \(errno)")
        path = String(cString: created!)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the directory.
    func file(_ name: String = "store.sqlite3") -> String { path + "/" + name }
}

/// Blocks a Store thread (a write or read body) until the test opens it; the test can wait,
/// without blocking its own task, until bodies have arrived.
final class ThreadGate: Sendable {
    private let opened = DispatchSemaphore(value: 0)
    private let arrivals = Atomic<Int>(0)

    /// Called from a body: says it arrived, then waits for `open()`.
    func pass() {
        arrivals.add(1, ordering: .sequentiallyConsistent)
        opened.wait()
        opened.signal()  // let any later passer through too
    }

    func open() { opened.signal() }

    /// Waits until `count` bodies called `pass()`.
    func waitForArrival(count: Int = 1) async {
        // A generous bound: it only limits how long a broken test hangs, and loaded machines are slow.
        let arrived = await eventually(timeout: .seconds(30)) { arrivals.load(ordering: .sequentiallyConsistent) >= count }
        precondition(arrived, "no body reached the gate")
    }
}

/// A one-table schema most tests use.
enum TestSchema {
    static let migrations = [
        Migration(
            version: 1, name: "items",
            sql: """
                CREATE TABLE items (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    quantity INTEGER NOT NULL DEFAULT 0 CHECK (quantity >= 0)
                );
                """)
    ]

    static func count(_ connection: SQLiteConnection, _ table: String = "items") throws -> Int {
        try connection.queryOne("SELECT count(*) FROM \(table)")!.get(0)
    }
}

extension Database {
    static func openForTest(
        _ directory: TemporaryDirectory, name: String = "store.sqlite3", migrations: [Migration] = TestSchema.migrations,
        _ configure: (inout DatabaseConfiguration) -> Void = { _ in }
    ) throws -> Database {
        var configuration = DatabaseConfiguration()
        configure(&configuration)
        return try Database.open(path: directory.file(name), migrations: migrations, configuration: configuration)
    }
}
