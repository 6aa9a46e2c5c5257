import Gateway
import Synchronization

/// A clock tests move by hand, so that key expiry, backoff and retention are tested without waiting.
final class ManualWallClock: WallClock {
    private let millis: Mutex<Int64>
    init(_ start: Int64 = 1_790_000_000_000) { millis = Mutex(start) }
    func nowMillis() -> Int64 { millis.withLock { $0 } }
    func advance(by duration: Duration) { millis.withLock { $0 += duration.milliseconds } }
}
