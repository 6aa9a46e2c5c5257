import FoundationEssentials
import Synchronization

/// Where the sandbox reads the time: the idempotency window (24 h), operation and account
/// timestamps. Injected so tests can move time instead of waiting for it.
public protocol SandboxClock: Sendable {
    /// The current instant; successive reads never go backwards.
    var now: Date { get }
}

/// The wall clock.
public struct SystemSandboxClock: SandboxClock {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that only moves when told to: `advance(by:)`. Safe to share between the test and
/// the sandbox's handlers (the instant is behind a lock).
public final class ManualSandboxClock: SandboxClock {
    private let instant: Mutex<Date>

    /// Starts at `start`, by default a fixed instant (2026-01-01T00:00:00Z) so that
    /// timestamps in responses are reproducible.
    public init(start: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        instant = Mutex(start)
    }

    public var now: Date { instant.withLock { $0 } }

    /// Moves the clock forward; negative amounts are ignored (time never goes back).
    public func advance(by seconds: Double) {
        guard seconds > 0 else { return }
        instant.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        advance(by: Double(seconds) + Double(attoseconds) / 1e18)
    }
}
