#if canImport(Glibc)
    import Glibc
#endif
import CLinux
import Synchronization

/// Something registered with an event loop: a socket and what to do when it is ready
/// or when its deadline passes. Called on the loop's thread only. Public for the other I/O
/// module on our sockets (the PostgreSQL client's sessions).
public protocol EventLoopSelectable: AnyObject {
    var fd: Int32 { get }
    /// Monotonic nanoseconds after which `deadlineExpired` is called; 0 means none.
    var deadline: UInt64 { get }
    func ready(readable: Bool, writable: Bool, hangup: Bool)
    func deadlineExpired(now: UInt64)
}

/// One thread running epoll (level-triggered). Sockets registered on a loop are touched only
/// on that thread; other threads hand it work with `execute`, woken through an eventfd.
///
/// It is also a `TaskExecutor`: a handler task started with this loop as its executor
/// preference runs on the loop thread, so a request that needs no other thread is parsed,
/// handled and answered without a single thread hop (what keeps `/healthz` near nginx).
///
/// Deadlines are checked by a sweep every `sweepInterval` rather than per-socket timers:
/// 10,000 comparisons every 50 ms cost far less than keeping a timer heap in step with
/// every keep-alive reset.
public final class EventLoop: @unchecked Sendable {
    // `inbox` and `wakeupPending` are guarded by the mutex; everything else is confined to `thread`.
    private struct Inbox { var work: [Work] = []; var wakeupPending = false }
    private enum Work: Sendable { case closure(@Sendable () -> Void); case job(UnownedJob) }

    let name: String
    private let epfd: Int32
    private let wakeFD: Int32
    private let inbox = Mutex(Inbox())
    private var local: [Work] = []
    private var selectables: [EventLoopSelectable?] = []
    private var registeredCount = 0
    private var timers: [(at: UInt64, id: UInt64, action: () -> Void)] = []
    private var nextTimerId: UInt64 = 0
    private var running = true
    private var thread: pthread_t?
    private let sweepInterval: UInt64
    private var nextSweep: UInt64 = 0
    private let stopped = Mutex<Bool>(false)
    /// A scratch buffer shared by every socket of this loop for reads (loop thread only).
    public let readBuffer: UnsafeMutableRawBufferPointer
    /// The `Date` header, formatted once a second for every connection of this loop.
    let dateCache = HTTPDateCache()

    public init(name: String = "http-loop", sweepInterval: Duration = .milliseconds(50)) throws(SystemError) {
        self.name = name
        epfd = try Syscall.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        wakeFD = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        self.sweepInterval = max(1_000_000, sweepInterval.nanoseconds)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        var event = epoll_event(events: clinux_epollin(), data: epoll_data_t(fd: wakeFD))
        _ = try Syscall.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &event) }
        try startThread()
    }

    deinit {
        Syscall.close(epfd)
        Syscall.close(wakeFD)
        readBuffer.deallocate()
    }

    private func startThread() throws(SystemError) {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { arg in
                let loop = Unmanaged<EventLoop>.fromOpaque(arg!).takeRetainedValue()
                // Named for top, perf and /proc/<pid>/task/*/comm (the kernel keeps 15 bytes of it).
                clinux_set_thread_name(loop.name)
                loop.run()
                return nil
            }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", errno: rc)
        }
        thread = tid
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool {
        guard let thread else { return false }
        return pthread_equal(pthread_self(), thread) != 0
    }

    /// Runs `work` on the loop thread: inline-queued when already there, else through the inbox.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        enqueue(.closure(work))
    }

    private func enqueue(_ work: Work) {
        if inEventLoop {
            local.append(work)
            return
        }
        let mustWake = inbox.withLock { inbox -> Bool in
            inbox.work.append(work)
            defer { inbox.wakeupPending = true }
            return !inbox.wakeupPending
        }
        if mustWake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// Runs `action` on the loop thread after `delay`; loop-thread only.
    @discardableResult
    func schedule(after delay: Duration, _ action: @escaping () -> Void) -> UInt64 {
        let at = Syscall.monotonicNanos() &+ delay.nanoseconds
        nextTimerId += 1
        timers.append((at, nextTimerId, action))
        return nextTimerId
    }

    func cancelTimer(_ id: UInt64) { timers.removeAll { $0.id == id } }

    // MARK: Registration (loop thread only)

    public func register(_ selectable: EventLoopSelectable, readable: Bool = true, writable: Bool = false) throws(SystemError) {
        let fd = selectable.fd
        if Int(fd) >= selectables.count {
            selectables.append(contentsOf: repeatElement(nil, count: Int(fd) + 64 - selectables.count))
        }
        var event = epoll_event(events: interest(readable: readable, writable: writable), data: epoll_data_t(fd: fd))
        _ = try Syscall.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) }
        selectables[Int(fd)] = selectable
        registeredCount += 1
    }

    public func reregister(_ selectable: EventLoopSelectable, readable: Bool, writable: Bool) {
        var event = epoll_event(events: interest(readable: readable, writable: writable), data: epoll_data_t(fd: selectable.fd))
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, selectable.fd, &event)
    }

    /// Forgets the socket; the caller closes the descriptor right after.
    public func deregister(_ selectable: EventLoopSelectable) {
        let fd = selectable.fd
        guard Int(fd) < selectables.count, selectables[Int(fd)] === selectable else { return }
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
        selectables[Int(fd)] = nil
        registeredCount -= 1
    }

    private func interest(readable: Bool, writable: Bool) -> UInt32 {
        var events = clinux_epollrdhup()
        if readable { events |= clinux_epollin() }
        if writable { events |= clinux_epollout() }
        return events
    }

    /// Every registered socket, for shutdown sweeps (loop thread only).
    func forEachSelectable(_ body: (EventLoopSelectable) -> Void) {
        for case let selectable? in selectables { body(selectable) }
    }

    // MARK: The loop

    /// Stops the loop after the work queued before this call; idempotent.
    public func stop() {
        execute { [self] in running = false }
    }

    /// Waits for the loop thread to exit (never call it from the loop itself).
    public func join() {
        guard let thread, !inEventLoop else { return }
        let first = stopped.withLock { done -> Bool in
            defer { done = true }; return !done
        }
        if first { pthread_join(thread, nil) }
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        nextSweep = Syscall.monotonicNanos() &+ sweepInterval
        while running {
            let now = Syscall.monotonicNanos()
            var timeoutMs: Int32 = local.isEmpty ? Int32(min((nextWakeup() &- min(now, nextWakeup())) / 1_000_000 + 1, 1000)) : 0
            if timeoutMs < 0 { timeoutMs = 0 }
            let n = epoll_wait(epfd, events, Int32(capacity), timeoutMs)
            if n > 0 {
                for i in 0..<Int(n) {
                    let event = events[i]
                    let fd = event.data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = Glibc.read(wakeFD, &value, 8)
                        continue
                    }
                    guard Int(fd) < selectables.count, let selectable = selectables[Int(fd)] else { continue }
                    let flags = event.events
                    selectable.ready(
                        readable: flags & clinux_epollin() != 0,
                        writable: flags & clinux_epollout() != 0,
                        hangup: flags & (clinux_epollhup() | clinux_epollerr() | clinux_epollrdhup()) != 0)
                }
            }
            drainWork()
            let after = Syscall.monotonicNanos()
            if after >= nextSweep {
                nextSweep = after &+ sweepInterval
                for case let selectable? in selectables where selectable.deadline != 0 && selectable.deadline <= after {
                    selectable.deadlineExpired(now: after)
                }
            }
            runDueTimers(now: after)
        }
        drainWork()
    }

    private func nextWakeup() -> UInt64 {
        var next = nextSweep
        for timer in timers where timer.at < next { next = timer.at }
        return next
    }

    private func runDueTimers(now: UInt64) {
        guard !timers.isEmpty else { return }
        let due = timers.filter { $0.at <= now }
        guard !due.isEmpty else { return }
        timers.removeAll { $0.at <= now }
        for timer in due { timer.action() }
    }

    private func drainWork() {
        let remote = inbox.withLock { inbox -> [Work] in
            inbox.wakeupPending = false
            return inbox.work.isEmpty
                ? []
                : {
                    defer { inbox.work = [] }; return inbox.work
                }()
        }
        for work in remote { perform(work) }
        // Work may queue more work; bound the rounds so sockets are never starved.
        var rounds = 0
        while !local.isEmpty && rounds < 64 {
            let batch = local
            local.removeAll(keepingCapacity: true)
            for work in batch { perform(work) }
            rounds += 1
        }
    }

    private func perform(_ work: Work) {
        switch work {
        case .closure(let body): body()
        case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

extension EventLoop: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(.job(UnownedJob(job)))
    }
}

/// A fixed set of event loops handed out round-robin.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)

    public init(loopCount: Int = EventLoopGroup.coreCount, name: String = "http-loop") throws(SystemError) {
        var loops: [EventLoop] = []
        for i in 0..<max(1, loopCount) { loops.append(try EventLoop(name: "\(name)-\(i)")) }
        self.loops = loops
    }

    /// The CPUs this process may use (`CPUBudget`), the default number of loops.
    public static var coreCount: Int { CPUBudget.current }

    public func next() -> EventLoop {
        loops[cursor.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Stops every loop and waits for its thread.
    public func shutdown() {
        for loop in loops { loop.stop() }
        for loop in loops { loop.join() }
    }

    /// One group for the whole process, created on first use: as many loops as the program
    /// chose before (`setSharedLoopCount`), else one per CPU it may use.
    public static let shared: EventLoopGroup = {
        let chosen = sharedLoopCount.withLock { choice -> Int? in
            choice.created = true
            return choice.count
        }
        do { return try EventLoopGroup(loopCount: chosen ?? coreCount) } catch { fatalError("cannot start event loops: \(error)") }
    }()

    /// The program's choice for `shared`, and whether `shared` exists: one lock, so a choice either
    /// comes before the group is made or is refused.
    private static let sharedLoopCount = Mutex<(count: Int?, created: Bool)>((nil, false))

    /// Sets how many loops `shared` will have (HTTP_EVENT_LOOPS); false when it exists already, so
    /// a program sets it first thing.
    public static func setSharedLoopCount(_ count: Int) -> Bool {
        sharedLoopCount.withLock { choice in
            guard !choice.created else { return false }
            choice.count = max(1, count)
            return true
        }
    }
}
