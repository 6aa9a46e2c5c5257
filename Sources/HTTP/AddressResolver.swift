#if canImport(Glibc)
    import Glibc
#endif
import CLinux
import Dispatch
import Synchronization

/// A resolved socket address, ready for connect(2).
struct ResolvedAddress: @unchecked Sendable {
    // sockaddr_storage is plain bytes; Sendable by value.
    var storage: sockaddr_storage
    var length: socklen_t
    var family: Int32
    var description: String { SocketAddress.describe(storage) }

    /// The address itself in network order: 4 bytes for IPv4, 16 for IPv6.
    var ipBytes: [UInt8] {
        withUnsafeBytes(of: storage) { raw in
            // sockaddr_in: family(2) port(2) addr(4); sockaddr_in6: family(2) port(2) flowinfo(4) addr(16).
            family == AF_INET ? Array(raw[4..<8]) : Array(raw[8..<24])
        }
    }
}

/// Name resolution within a deadline, on a bounded number of threads.
///
/// getaddrinfo blocks and cannot be cancelled, so lookups run on threads of their own (never on
/// a loop, the cooperative pool or Dispatch's shared workers, which other blocking work can use
/// up), at most `maxConcurrentLookups` at once: a resolver that hangs holds that many threads,
/// never more. Further lookups wait in a bounded queue (refused
/// beyond it). Each caller races its lookup against its deadline: when the deadline passes the
/// caller gets its error at once; a lookup still queued is dropped, one already running
/// finishes in the background and frees its worker for the next. IP literals skip all this.
public final class AddressResolver: Sendable {
    /// The lookup a worker runs: getaddrinfo, or a stand-in in tests.
    typealias Lookup = @Sendable (_ host: String, _ port: Int) -> Result<[ResolvedAddress], HTTPClientError>

    /// The process's resolver: every client uses it unless given another.
    public static let shared = AddressResolver()

    /// How long a lookup may take when the caller names no deadline.
    public static let defaultTimeout: Duration = .seconds(5)

    private struct Job { let host: String; let port: Int }

    private struct Guarded {
        var queue: LookupQueueState
        /// Lookups admitted and not yet picked up by a worker.
        var jobs: [UInt64: Job] = [:]
        /// Callers still waiting, by lookup.
        var waiters: [UInt64: CheckedContinuation<Result<[ResolvedAddress], HTTPClientError>, Never>] = [:]
    }

    private let lookup: Lookup
    private let guarded: Mutex<Guarded>
    private let nextId = Atomic<UInt64>(0)

    /// - Parameters:
    ///   - maxConcurrentLookups: workers blocked in getaddrinfo at most, whatever the load.
    ///   - maxQueuedLookups: lookups waiting for a worker at most; more fail at once.
    public convenience init(maxConcurrentLookups: Int = 4, maxQueuedLookups: Int = 256) {
        self.init(
            maxConcurrentLookups: maxConcurrentLookups, maxQueuedLookups: maxQueuedLookups,
            lookup: { AddressResolver.getaddrinfoBlocking(host: $0, port: $1) })
    }

    init(maxConcurrentLookups: Int, maxQueuedLookups: Int, lookup: @escaping Lookup) {
        self.lookup = lookup
        guarded = Mutex(Guarded(queue: LookupQueueState(maxRunning: maxConcurrentLookups, maxQueued: maxQueuedLookups)))
    }

    /// Lookups running and waiting now.
    var load: (running: Int, queued: Int) { guarded.withLock { ($0.queue.running, $0.queue.waiting.count) } }

    /// The addresses `host` resolves to (4 bytes for IPv4, 16 for IPv6), for callers that must
    /// vet a host before using it (webhook URLs).
    public static func ipAddresses(of host: String) async throws(HTTPClientError) -> [[UInt8]] {
        try await shared.ipAddresses(of: host, timeout: defaultTimeout)
    }

    public func ipAddresses(of host: String, timeout: Duration) async throws(HTTPClientError) -> [[UInt8]] {
        try await resolve(
            host: host, port: 443, deadline: Syscall.monotonicNanos() &+ timeout.nanoseconds,
            timeoutError: .resolution(host, "no answer within \(timeout)")
        ).map(\.ipBytes)
    }

    /// The addresses of `host`, or `timeoutError` as soon as the monotonic clock passes `deadline`.
    func resolve(host: String, port: Int, deadline: UInt64, timeoutError: HTTPClientError) async throws(HTTPClientError) -> [ResolvedAddress] {
        if let literal = SocketAddress.make(host: host, port: port) {
            return [ResolvedAddress(storage: literal.storage, length: literal.length, family: literal.family)]
        }
        let id = nextId.wrappingAdd(1, ordering: .relaxed).newValue
        var timer: Task<Void, Never>?
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[ResolvedAddress], HTTPClientError>, Never>) in
                let admission = guarded.withLock { guarded in
                    let admission = guarded.queue.admit(id)
                    if admission != .refused {
                        guarded.jobs[id] = Job(host: host, port: port)
                        guarded.waiters[id] = continuation
                    }
                    return admission
                }
                switch admission {
                case .refused:
                    continuation.resume(returning: .failure(.resolution(host, "too many lookups in progress")))
                    return
                case .run:
                    startWorker(with: id)
                case .queued:
                    break
                }
                // Armed once the waiter is registered, so an early expiry cannot miss it.
                timer = Task { [self] in
                    let remaining = deadline &- min(deadline, Syscall.monotonicNanos())
                    if remaining > 0 { try? await Task.sleep(for: .nanoseconds(Int64(remaining))) }
                    if !Task.isCancelled { giveUp(id, with: timeoutError) }
                }
                if Task.isCancelled { giveUp(id, with: .cancelled(afterSending: false)) }
            }
        } onCancel: {
            giveUp(id, with: .cancelled(afterSending: false))
        }
        timer?.cancel()
        return try result.get()
    }

    /// The caller stops waiting: answered with `error`; a lookup not yet started never starts.
    private func giveUp(_ id: UInt64, with error: HTTPClientError) {
        let waiter = guarded.withLock { guarded -> CheckedContinuation<Result<[ResolvedAddress], HTTPClientError>, Never>? in
            guard let waiter = guarded.waiters.removeValue(forKey: id) else { return nil }
            if guarded.queue.withdraw(id) { guarded.jobs[id] = nil }
            return waiter
        }
        waiter?.resume(returning: .failure(error))
    }

    /// One worker: runs `first`, then whatever the queue hands it, until the queue is empty.
    private func startWorker(with first: UInt64) {
        // A detached thread per busy worker: it exists while its queue has work, then ends, so an
        // idle resolver holds no thread and a busy one at most `maxConcurrentLookups`.
        let work: @Sendable () -> Void = { [self] in
            var next: UInt64? = first
            while let id = next {
                let job = guarded.withLock { $0.jobs.removeValue(forKey: id) }
                let result = job.map { lookup($0.host, $0.port) } ?? .failure(.resolution("?", "lookup lost"))
                let (waiter, following) = guarded.withLock { guarded in
                    (guarded.waiters.removeValue(forKey: id), guarded.queue.finish())
                }
                waiter?.resume(returning: result)
                next = following
            }
        }
        do { try DetachedThread.start(name: "dns-resolver", work) } catch {
            // Out of threads: the shared workers still do the lookup rather than failing it.
            DispatchQueue.global().async(execute: work)
        }
    }

    static func getaddrinfoBlocking(host: String, port: Int) -> Result<[ResolvedAddress], HTTPClientError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(.resolution(host, String(cString: gai_strerror(rc))))
        }
        defer { freeaddrinfo(first) }
        var addresses: [ResolvedAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr, entry.pointee.ai_family == AF_INET || entry.pointee.ai_family == AF_INET6 {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(entry.pointee.ai_addrlen)))
                }
                addresses.append(ResolvedAddress(storage: storage, length: entry.pointee.ai_addrlen, family: entry.pointee.ai_family))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.resolution(host, "no IPv4 or IPv6 address")) : .success(addresses)
    }
}
