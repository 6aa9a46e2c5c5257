import Synchronization

/// The `traceparent` header of W3C Trace Context (https://www.w3.org/TR/trace-context/ §3.2):
/// `version-traceid-parentid-flags`, lowercase hex. Parsing is strict: anything malformed is
/// refused (nil), and the receiver then starts a trace of its own, as §4.2 requires.
public struct TraceParent: Sendable, Equatable {
    /// 32 lowercase hex digits, never all zero.
    public var traceId: String
    /// 16 lowercase hex digits, never all zero: the sender's span.
    public var parentId: String
    public var flags: UInt8

    public init?(traceId: String, parentId: String, flags: UInt8) {
        guard Self.isId(traceId, length: 32), Self.isId(parentId, length: 16) else { return nil }
        self.traceId = traceId
        self.parentId = parentId
        self.flags = flags
    }

    /// Version 00 is exactly 55 characters. A later version (any but `ff`, which is invalid) is
    /// read as 00 for its first four fields, which a longer value must close with `-` (§3.2.4).
    public init?(parsing value: String) {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, let version = Self.hexByte(bytes[0], bytes[1]), version != 0xFF else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55, bytes[55] != UInt8(ascii: "-") {
            return nil
        }
        guard bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-"),
            let flags = Self.hexByte(bytes[53], bytes[54])
        else { return nil }
        self.init(traceId: String(decoding: bytes[3..<35], as: UTF8.self), parentId: String(decoding: bytes[36..<52], as: UTF8.self), flags: flags)
    }

    /// The header value, always version 00 (the version this gateway implements).
    public var header: String { "00-\(traceId)-\(parentId)-\(TraceIds.hex(UInt64(flags), digits: 2))" }

    static func isId(_ text: String, length: Int) -> Bool {
        text.utf8.count == length && text.utf8.allSatisfy(isLowerHex) && text.utf8.contains { $0 != UInt8(ascii: "0") }
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    static func hexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard isLowerHex(high), isLowerHex(low) else { return nil }
        func value(_ byte: UInt8) -> UInt8 { byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : byte - UInt8(ascii: "a") + 10 }
        return value(high) << 4 | value(low)
    }
}

/// The `tracestate` header (§3.3): vendors' opaque list, carried on unchanged within a bound.
public enum TraceState {
    /// §3.3.1.5: propagate at least 512 characters; beyond that, list members are dropped.
    public static let maxLength = 512
    /// Members longer than this go first when the whole is too long (§3.3.1.5).
    static let longMember = 128

    /// The header's fields combined (§3.3.1: several fields are one list), or nil when it is
    /// absent, holds a character outside printable ASCII, or nothing is left within the bound.
    public static func combine(_ values: [String]) -> String? {
        guard !values.isEmpty else { return nil }
        var members = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: true) }
            .map { $0.trimmingHTTPWhitespace() }.filter { !$0.isEmpty }
        guard members.allSatisfy({ $0.utf8.allSatisfy { (0x20...0x7E).contains($0) } }) else { return nil }
        func length(_ list: [String]) -> Int { list.reduce(0) { $0 + $1.utf8.count } + max(0, list.count - 1) }
        if length(members) > maxLength { members.removeAll { $0.utf8.count > longMember } }
        while length(members) > maxLength { members.removeLast() }
        return members.isEmpty ? nil : members.joined(separator: ",")
    }
}

/// The trace this task works for: the trace id (the caller's, or a new one), this process's own
/// span in it, and the request id. Set (`withCurrent`) around a request's handling, a job's run
/// or a webhook attempt, so the logger and the outgoing calls read it without being handed it.
public struct TraceContext: Sendable, Equatable {
    public var traceId: String
    /// This process's span: the parent id of every call it makes (16 hex digits).
    public var spanId: String
    public var flags: UInt8
    /// The caller's `tracestate`, opaque, already bounded.
    public var traceState: String?
    /// Sent as `X-Request-Id` on outgoing calls.
    public var requestId: String?

    /// The trace of the running task, if it works for one.
    public static var current: TraceContext? { TraceScope.active?.trace }

    /// Runs `body` in `trace`.
    public static func withCurrent<R>(_ trace: TraceContext, _ body: () async throws -> R) async rethrows -> R {
        try await TraceScope.$active.withValue(TraceScope(trace), operation: body)
    }

    public static func withCurrent<R>(_ trace: TraceContext, _ body: () throws -> R) rethrows -> R {
        try TraceScope.$active.withValue(TraceScope(trace), operation: body)
    }

    /// Continues the caller's trace when it sent a valid `traceparent` (exactly one), otherwise
    /// starts a new one; a malformed header is never an error (§4.2). `random` gives 64 bits.
    public static func incoming(_ headers: HTTPHeaders, requestId: String?, random: () -> UInt64) -> TraceContext {
        let parents = headers.values("traceparent")
        guard parents.count == 1, let parent = TraceParent(parsing: parents[0].trimmingHTTPWhitespace()) else {
            return continuing(nil, requestId: requestId, random: random)
        }
        return TraceContext(
            traceId: parent.traceId, spanId: TraceIds.spanId(random), flags: parent.flags & knownFlags,
            traceState: TraceState.combine(headers.values("tracestate")), requestId: requestId)
    }

    /// A new span in a recorded trace (work done later for a request: a queued job, a webhook),
    /// or in a new trace when there is no valid record.
    public static func continuing(_ record: TraceRecord?, requestId: String?, random: () -> UInt64) -> TraceContext {
        guard let record, TraceParent.isId(record.traceId, length: 32) else {
            return TraceContext(traceId: TraceIds.traceId(random), spanId: TraceIds.spanId(random), flags: 0, traceState: nil, requestId: requestId)
        }
        return TraceContext(
            traceId: record.traceId, spanId: TraceIds.spanId(random), flags: record.flags & knownFlags,
            traceState: record.traceState.flatMap { TraceState.combine([$0]) }, requestId: requestId)
    }

    /// What is stored to continue this trace later.
    public var record: TraceRecord { TraceRecord(traceId: traceId, flags: flags, traceState: traceState) }

    /// Level 1's `sampled` and level 2's `random`; other bits are not forwarded (§3.2.2.5).
    static let knownFlags: UInt8 = 0x03

    /// `traceparent` with this span as the parent, `tracestate` as received, and `X-Request-Id`.
    public func propagate(into headers: inout HTTPHeaders) {
        let parent = TraceParent(traceId: traceId, parentId: spanId, flags: flags)
        if let parent { headers.replaceOrAdd(name: "traceparent", value: parent.header) }
        if let traceState, parent != nil { headers.replaceOrAdd(name: "tracestate", value: traceState) }
        if let requestId { headers.replaceOrAdd(name: "X-Request-Id", value: requestId) }
    }
}

/// Where a task's trace is kept: replaceable while the task runs, because one run of a job may
/// serve several callers' operations in turn, each in its own trace (`TraceContext.current`).
public final class TraceScope: Sendable {
    private let value: Mutex<TraceContext>

    public init(_ trace: TraceContext) { value = Mutex(trace) }

    public var trace: TraceContext { value.withLock { $0 } }
    public func replace(_ trace: TraceContext) { value.withLock { $0 = trace } }

    @TaskLocal public static var active: TraceScope?
}

/// A trace as stored with the work it started (an operation, a webhook event), so that work done
/// later, even after a restart, continues it with the caller's flags and `tracestate`.
public struct TraceRecord: Sendable, Equatable {
    public var traceId: String
    public var flags: UInt8
    public var traceState: String?

    public init(traceId: String, flags: UInt8 = 0, traceState: String? = nil) {
        self.traceId = traceId
        self.flags = flags
        self.traceState = traceState
    }
}

/// Trace and span ids from a source of random bits.
public enum TraceIds {
    public static func traceId(_ random: () -> UInt64) -> String {
        var (high, low) = (random(), random())
        if high == 0 && low == 0 { low = 1 }  // all zero is invalid (§3.2.2.3)
        return hex(high, digits: 16) + hex(low, digits: 16)
    }

    public static func spanId(_ random: () -> UInt64) -> String {
        let value = random()
        return hex(value == 0 ? 1 : value, digits: 16)
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.utf8.count)) + text
    }
}
