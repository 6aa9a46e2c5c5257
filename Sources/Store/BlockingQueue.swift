#if canImport(Glibc)
    import Glibc
#endif

/// A bounded first-in-first-out queue between async callers (who never block: `offer` answers
/// at once) and the Store's own threads (which block in `take` until there is work).
///
/// `@unchecked Sendable`: `buffer`, `head` and `isClosed` are guarded by `mutex`, and
/// `nonEmpty` is only waited on and signalled with `mutex` held.
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    enum OfferResult: Equatable {
        case accepted
        /// `capacity` elements are already waiting.
        case full
        /// `close()` was called.
        case closed
    }

    let capacity: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let nonEmpty: UnsafeMutablePointer<pthread_cond_t>
    // A growing array read from `head`, compacted once half of it is consumed: amortised O(1)
    // without a ring buffer's index arithmetic.
    private var buffer: [Element?] = []
    private var head = 0
    private var isClosed = false

    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for one element")
        self.capacity = capacity
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        nonEmpty = .allocate(capacity: 1)
        nonEmpty.initialize(to: pthread_cond_t())
        pthread_cond_init(nonEmpty, nil)
    }

    deinit {
        pthread_cond_destroy(nonEmpty)
        nonEmpty.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// How many elements wait.
    var count: Int { locked { buffer.count - head } }

    /// Appends `element` unless the queue is full or closed; never blocks beyond the mutex.
    func offer(_ element: Element) -> OfferResult {
        let result = locked { () -> OfferResult in
            if isClosed { return .closed }
            if buffer.count - head >= capacity { return .full }
            buffer.append(element)
            return .accepted
        }
        if result == .accepted { pthread_cond_signal(nonEmpty) }
        return result
    }

    /// The oldest element, waiting for one; nil once the queue is closed and drained.
    func take() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while buffer.count == head && !isClosed { pthread_cond_wait(nonEmpty, mutex) }
        return popLocked()
    }

    /// The oldest element if one is waiting; never waits.
    func poll() -> Element? { locked { popLocked() } }

    private func popLocked() -> Element? {
        guard head < buffer.count else { return nil }
        // Cleared at once so a finished job's captures are released now, not at compaction.
        let element = buffer[head].take()
        head += 1
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.count <= 1024)
            head = 0
        } else if head >= 1024 && head * 2 >= buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Refuses further offers; `take` hands out what is queued, then answers nil.
    func close() {
        locked { isClosed = true }
        pthread_cond_broadcast(nonEmpty)
    }
}
