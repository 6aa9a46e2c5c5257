import Foundation
import Synchronization
import Testing
@testable import Gateway

@Suite struct ProcessLockTests {
    @Test func aSecondLockOnOneDatabaseIsRefusedNamingTheLock() throws {
        let directory = NSTemporaryDirectory() + "process-lock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let held = try ProcessLock(path: directory + "/gateway.sqlite3.lock")
        #expect(throws: ProcessLock.Held.self) { try ProcessLock(path: directory + "/gateway.sqlite3.lock") }
        withExtendedLifetime(held) {}
    }

    /// A refused lock closed its descriptor, then its `deinit` closed the same number again: by
    /// then another thread may have opened a socket that got that number (the lowest free one),
    /// and lost it. Another thread opens descriptors while locks are refused; none may be closed
    /// under it.
    @Test func aRefusedLockClosesItsDescriptorOnce() async throws {
        let directory = NSTemporaryDirectory() + "process-lock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/gateway.sqlite3.lock"
        let held = try ProcessLock(path: path)
        let stop = Atomic<Bool>(false)
        let stolen = Atomic<Int>(0)
        let finished = DispatchSemaphore(value: 0)
        // A thread of its own: this loop must not hold a thread of the cooperative pool.
        Thread.detachNewThread {
            defer { finished.signal() }
            while !stop.load(ordering: .relaxed) {
                let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                // Closed by someone else meanwhile: the number is no longer ours (and not ours to close).
                var lost = false
                for _ in 0..<64 where fcntl(fd, F_GETFD) == -1 { lost = true }
                if lost { stolen.add(1, ordering: .relaxed) } else { close(fd) }
            }
        }
        for _ in 0..<20_000 { _ = try? ProcessLock(path: path) }
        stop.store(true, ordering: .relaxed)
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                finished.wait()
                continuation.resume()
            }
        }
        #expect(stolen.load(ordering: .relaxed) == 0)
        withExtendedLifetime(held) {}
    }
}
