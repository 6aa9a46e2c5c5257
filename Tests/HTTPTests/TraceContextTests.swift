import Testing
@testable import HTTP

/// W3C Trace Context (https://www.w3.org/TR/trace-context/): what is accepted, what is refused
/// (and then replaced by a new trace), and what is sent on.
struct TraceContextTests {
    static let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentId = "00f067aa0ba902b7"
    static let valid = "00-\(traceId)-\(parentId)-01"

    /// A source of random bits that counts up, so new ids are known in advance.
    final class Counter: @unchecked Sendable {  // used on one task only
        var next: UInt64 = 0
        func draw() -> UInt64 { next += 1; return next }
    }

    @Test func readsAValidVersion00Header() throws {
        let parent = try #require(TraceParent(parsing: Self.valid))
        #expect(parent.traceId == Self.traceId && parent.parentId == Self.parentId && parent.flags == 1)
        #expect(parent.header == Self.valid)
        #expect(TraceParent(parsing: "00-\(Self.traceId)-\(Self.parentId)-00")?.flags == 0)
    }

    @Test(arguments: [
        "",  // empty
        "00-\(traceId)-\(parentId)",  // no flags
        "00-\(traceId)-\(parentId)-01-",  // version 00 is exactly 55 characters
        "00-\(traceId)-\(parentId)-01x",
        "0-\(traceId)-\(parentId)-01",  // one-digit version
        "00_\(traceId)-\(parentId)-01",  // wrong separators
        "00-\(traceId)_\(parentId)-01",
        "00-\(traceId)-\(parentId)_01",
        "00-\(String(traceId.dropLast()))-\(parentId)-01",  // short trace id
        "00-\(traceId)-\(String(parentId.dropLast()))-01",  // short parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-\(parentId)-01",  // uppercase trace id
        "00-\(traceId)-00F067AA0BA902B7-01",  // uppercase parent id
        "00-\(traceId)-\(parentId)-0A",  // uppercase flags
        "0A-\(traceId)-\(parentId)-01",  // uppercase version
        "00-00000000000000000000000000000000-\(parentId)-01",  // all-zero trace id
        "00-\(traceId)-0000000000000000-01",  // all-zero parent id
        "00-\(traceId)-\(parentId)-g1",  // not hex
        "00-4bf92f3577b34da6a3ce929d0e0e473g-\(parentId)-01",
        "ff-\(traceId)-\(parentId)-01",  // version ff is invalid
        "01-\(traceId)-\(parentId)-01x",  // a later version's extra fields must follow a dash
        " 00-\(traceId)-\(parentId)-01",
    ])
    func refusesMalformedHeaders(_ value: String) {
        #expect(TraceParent(parsing: value) == nil, "\(value)")
    }

    @Test func readsALaterVersionAsVersion00() throws {
        let later = try #require(TraceParent(parsing: "cc-\(Self.traceId)-\(Self.parentId)-01-what-the-future-adds"))
        #expect(later.traceId == Self.traceId && later.parentId == Self.parentId)
        #expect(later.header == Self.valid, "sent on as the version this gateway implements")
        #expect(TraceParent(parsing: "01-\(Self.traceId)-\(Self.parentId)-01")?.traceId == Self.traceId)
    }

    @Test func continuesTheCallersTraceUnderASpanOfItsOwn() {
        let random = Counter()
        let headers: HTTPHeaders = ["traceparent": Self.valid, "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]
        let trace = TraceContext.incoming(headers, requestId: "req-1", random: random.draw)
        #expect(trace.traceId == Self.traceId)
        #expect(trace.spanId == "0000000000000001" && trace.spanId != Self.parentId)
        #expect(trace.traceState == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        var out = HTTPHeaders()
        trace.propagate(into: &out)
        #expect(out["traceparent"] == "00-\(Self.traceId)-0000000000000001-01")
        #expect(out["tracestate"] == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        #expect(out["X-Request-Id"] == "req-1")
    }

    @Test func aMalformedOrDuplicatedHeaderStartsANewTraceWithoutItsState() {
        let random = Counter()
        for headers: HTTPHeaders in [
            ["traceparent": "00-\(Self.traceId.uppercased())-\(Self.parentId)-01", "tracestate": "a=b"],
            HTTPHeaders([("traceparent", Self.valid), ("traceparent", Self.valid), ("tracestate", "a=b")]),
            ["tracestate": "a=b"],
        ] {
            let trace = TraceContext.incoming(headers, requestId: nil, random: random.draw)
            #expect(trace.traceId != Self.traceId && TraceParent.isId(trace.traceId, length: 32))
            #expect(trace.traceState == nil, "tracestate without a valid traceparent is dropped (§3.3)")
            #expect(trace.flags == 0)
        }
        let fresh = TraceContext.continuing(nil, requestId: nil, random: { 0 })
        #expect(fresh.traceId == "00000000000000000000000000000001" && fresh.spanId == "0000000000000001", "never all zero")
    }

    @Test func onlyKnownFlagsAreSentOn() {
        let trace = TraceContext.incoming(["traceparent": "00-\(Self.traceId)-\(Self.parentId)-ff"], requestId: nil, random: { 7 })
        var out = HTTPHeaders()
        trace.propagate(into: &out)
        #expect(out["traceparent"]?.hasSuffix("-03") == true)
    }

    @Test func aRecordedTraceIsContinuedUnderANewSpanWhenValid() {
        let random = Counter()
        let request = TraceContext.incoming(["traceparent": Self.valid, "tracestate": "a=1"], requestId: "req-1", random: random.draw)
        let later = TraceContext.continuing(request.record, requestId: "req-2", random: random.draw)
        #expect(later.traceId == Self.traceId && later.flags == 1 && later.traceState == "a=1" && later.requestId == "req-2")
        #expect(later.spanId != request.spanId)
        let fresh = TraceContext.continuing(TraceRecord(traceId: "garbage", flags: 1, traceState: "a=1"), requestId: nil, random: { 9 })
        #expect(fresh.traceId == "00000000000000090000000000000009" && fresh.flags == 0 && fresh.traceState == nil)
    }

    @Test func traceStateIsCombinedAndBounded() {
        #expect(TraceState.combine([]) == nil)
        #expect(TraceState.combine(["a=1, b=2", "c=3"]) == "a=1,b=2,c=3", "several fields are one list")
        #expect(TraceState.combine(["a=\u{7}"]) == nil, "a control character drops the header")
        #expect(TraceState.combine(["a=é"]) == nil)
        // Over 512: members over 128 characters go first…
        let long = "big=" + String(repeating: "x", count: 200)
        let small = (0..<40).map { "k\($0)=vvvv" }
        let kept = TraceState.combine([long + "," + small.joined(separator: ",")])
        #expect(kept == small.joined(separator: ","), "\(kept ?? "nil")")
        // …then members from the end, until it fits.
        let many = (0..<100).map { "key\($0)=value" }
        let bounded = try? #require(TraceState.combine([many.joined(separator: ",")]))
        #expect((bounded?.utf8.count ?? 0) <= TraceState.maxLength)
        #expect(bounded?.hasPrefix("key0=value,key1=value") == true)
        #expect(bounded.map { many.joined(separator: ",").hasPrefix($0) } == true)
        #expect(TraceState.combine([String(repeating: "y", count: 600)]) == nil)
    }
}
