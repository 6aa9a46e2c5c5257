import Synchronization

/// The request-body bytes all connections of a server may hold at once. A connection reserves a
/// body's size from its head (`Content-Length`) or as chunked data arrives, and gives it back
/// when the request is answered or the connection ends; a reservation that does not fit is
/// refused (the server answers 503), so many large uploads at once cannot exhaust memory.
struct BodyMemoryLedger: Sendable, Equatable {
    let capacity: Int
    private(set) var reserved = 0

    init(capacity: Int) {
        precondition(capacity >= 0, "a body memory budget cannot be negative")
        self.capacity = capacity
    }

    /// Takes `bytes` when they fit in what is left; false (and nothing taken) otherwise.
    mutating func reserve(_ bytes: Int) -> Bool {
        guard bytes >= 0, bytes <= capacity - reserved else { return false }
        reserved += bytes
        return true
    }

    mutating func release(_ bytes: Int) {
        precondition(bytes >= 0 && bytes <= reserved, "releasing \(bytes) of \(reserved) reserved body bytes")
        reserved -= bytes
    }
}

/// The server's ledger, shared by every loop.
final class BodyMemoryBudget: Sendable {
    private let ledger: Mutex<BodyMemoryLedger>

    init(capacity: Int) { ledger = Mutex(BodyMemoryLedger(capacity: capacity)) }

    func reserve(_ bytes: Int) -> Bool { ledger.withLock { $0.reserve(bytes) } }
    func release(_ bytes: Int) { ledger.withLock { $0.release(bytes) } }
    var reserved: Int { ledger.withLock { $0.reserved } }
}
