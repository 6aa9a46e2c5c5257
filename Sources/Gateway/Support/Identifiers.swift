import FoundationEssentials
import Synchronization

/// Identifiers the gateway mints.
public enum Identifiers {
    /// `op_` + 12 hex digits of creation time + 16 random hex digits: unique, and sorting
    /// by id sorts by creation, which makes `?after=` pagination stable.
    public static func operationId(now: Int64) -> String { prefixed("op_", now: now) }

    public static func prefixed(_ prefix: String, now: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + hex(UInt64(max(0, now)), digits: 12) + hex(generator.next(), digits: 16)
    }

    /// `req_` + 12 hex digits of time + 16 hex digits unique in this process (a random salt and
    /// a counter): minted for every request without a caller's id, so no system call per request.
    public static func requestId(now: Int64) -> String {
        let sequence = requestSequence.add(1, ordering: .relaxed).newValue
        return "req_" + hex(UInt64(max(0, now)), digits: 12) + hex(requestSalt &+ sequence &* 0x9E37_79B9_7F4A_7C15, digits: 16)
    }

    private static let requestSalt: UInt64 = {
        var generator = SystemRandomNumberGenerator(); return generator.next()
    }()
    private static let requestSequence = Atomic<UInt64>(0)

    /// An upstream Idempotency-Key: a random UUID, as Rokt's examples use; never minted twice.
    public static func idempotencyKey() -> String { UUID().uuidString.lowercased() }

    /// The low `digits` hex digits of `value`, zero-padded (written directly: ids are minted per request).
    static func hex(_ value: UInt64, digits: Int) -> String {
        let alphabet: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: digits) { buffer in
            var rest = value
            for index in stride(from: digits - 1, through: 0, by: -1) {
                buffer[index] = alphabet.utf8Start[Int(rest & 0xF)]
                rest >>= 4
            }
            return digits
        }
    }
}
