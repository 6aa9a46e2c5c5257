/// Byte classes and field-line parsing shared by the request, response and chunked parsers.
enum HTTPGrammar {
    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, sp: UInt8 = 0x20, htab: UInt8 = 0x09, colon: UInt8 = 0x3A

    /// tchar (RFC 9110 §5.6.2) as a 128-bit mask: no table load, no lazy global.
    @inline(__always) static func isTokenChar(_ b: UInt8) -> Bool {
        if b < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) &>> UInt64(b) & 1 == 1 }
        if b < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) &>> UInt64(b &- 64) & 1 == 1 }
        return false
    }

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == htab }

    /// field-vchar / SP / HTAB, obs-text included (RFC 9110 §5.5); every other CTL and DEL is refused.
    @inline(__always) static func isFieldValueByte(_ b: UInt8) -> Bool { b >= 0x20 ? b != 0x7F : b == htab }

    /// The bytes `range` of `p` as UInt8 elements, so `String(decoding:)` and `Array.append`
    /// take their contiguous fast paths. Callers pass byte buffers (memory bound to UInt8).
    @inline(__always) static func bytes(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        guard let base = p.baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + range.lowerBound, count: range.count)
    }

    @inline(__always) static func string(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: bytes(p, range), as: UTF8.self)
    }

    /// Whether `p[range]` spells `literal` exactly (case-sensitive).
    static func equals(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for k in 0..<range.count where p[range.lowerBound + k] != l[k] { return false }
        return true
    }

    enum VersionMatch { case supported(HTTPVersion), unsupported, malformed }

    /// Reads the 8 bytes `HTTP/d.d` at `i` (RFC 9112 §2.3: case-sensitive). The caller ensures they exist.
    static func matchVersion(_ p: UnsafeRawBufferPointer, at i: Int) -> VersionMatch {
        guard equals(p, i..<(i + 5), "HTTP/"), p[i + 6] == UInt8(ascii: "."),
            case let major = p[i + 5] &- 0x30, case let minor = p[i + 7] &- 0x30, major < 10, minor < 10
        else { return .malformed }
        guard major == 1, minor <= 1 else { return .unsupported }
        return .supported(minor == 1 ? .http1_1 : .http1_0)
    }

    /// Parses the CRLF-terminated field lines in `p[from..<to)` (RFC 9112 §5) into `fields`,
    /// counting `Host` fields. The scanner has already proved every CR is followed by LF.
    static func parseFieldLines(
        _ p: UnsafeRawBufferPointer, from: Int, to: Int,
        into fields: inout [(String, String)], hostCount: inout Int
    ) throws(HTTPParseError) {
        var i = from
        while i < to {
            let nameStart = i
            var b = p[i]
            // RFC 9112 §5.2: obs-fold (and whitespace before the first field) is refused, not unfolded.
            if isWhitespace(b) { throw .obsoleteLineFolding }
            while isTokenChar(b) { i += 1; b = p[i] }
            guard b == colon, i > nameStart else {
                if i > nameStart, isWhitespace(b) {
                    var j = i
                    while isWhitespace(p[j]) { j += 1 }
                    // RFC 9112 §5.1: whitespace between name and colon MUST be rejected (smuggling vector).
                    if p[j] == colon { throw .whitespaceBeforeColon }
                }
                throw .invalidHeaderName
            }
            let nameEnd = i
            i += 1
            while isWhitespace(p[i]) { i += 1 }  // leading OWS (RFC 9110 §5.6.3)
            let valueStart = i
            var valueEnd = i
            while true {
                b = p[i]
                if b > sp {
                    if b == 0x7F { throw .invalidHeaderValue }
                    valueEnd = i + 1  // trailing OWS is excluded by only advancing on non-whitespace
                } else if b == cr {
                    break
                } else if b != sp && b != htab {
                    throw .invalidHeaderValue  // NUL and other CTLs (RFC 9110 §5.5)
                }
                i += 1
            }
            if nameEnd - nameStart == 4, p[nameStart] | 0x20 == UInt8(ascii: "h"), p[nameStart + 1] | 0x20 == UInt8(ascii: "o"),
                p[nameStart + 2] | 0x20 == UInt8(ascii: "s"), p[nameStart + 3] | 0x20 == UInt8(ascii: "t")
            {
                hostCount += 1
            }
            fields.append((string(p, nameStart..<nameEnd), string(p, valueStart..<valueEnd)))
            i += 2  // CRLF
        }
    }
}

/// Finds the end of a message head across calls in O(new bytes), enforcing CRLF-only line
/// endings (RFC 9112 §2.2) and the size, count and target bounds while bytes arrive.
struct HTTPHeadScanner: Sendable {
    /// Where the head lies in the buffer once its terminating empty line has arrived.
    struct Span {
        var start: Int  // first byte of the start line (leading empty lines skipped)
        var startLineEnd: Int  // the CR ending the start line
        var end: Int  // one past the final CRLF: the bytes consumed
    }
    enum Outcome { case complete(Span), needMoreData, invalid(HTTPParseError) }

    private var scanned = 0  // bytes already examined
    private var lineStart = 0  // first byte of the line being scanned
    private var headStart = 0
    private var startLineEnd = -1  // -1 until the start line is complete
    private var fieldLines = 0
    private var firstSpace = -1, secondSpace = -1  // delimit the request-target for an early 414

    mutating func scan(_ p: UnsafeRawBufferPointer, limits: HTTPParserLimits, tracksTarget: Bool) -> Outcome {
        let count = p.count
        if count < scanned { self = HTTPHeadScanner() }  // caller broke the contract; rescan rather than misread
        // Never look past the bound: a head ending exactly at maxHeaderBytes passes, one byte more fails.
        let limit = min(count, limits.maxHeaderBytes)
        var i = scanned
        while i < limit {
            let b = p[i]
            if b > HTTPGrammar.sp { i += 1; continue }  // the common case: a visible byte
            if b == HTTPGrammar.lf {
                // RFC 9112 §2.2: a bare LF is refused rather than tolerated (request smuggling).
                guard i > lineStart, p[i - 1] == HTTPGrammar.cr else { return refusal(.bareLF, at: i, limits, tracksTarget) }
                if i - 1 == lineStart {
                    if startLineEnd < 0 {
                        headStart = i + 1  // RFC 9112 §2.2: ignore empty lines before the start line
                    } else {
                        let span = Span(start: headStart, startLineEnd: startLineEnd, end: i + 1)
                        self = HTTPHeadScanner()
                        return .complete(span)
                    }
                } else if startLineEnd < 0 {
                    startLineEnd = i - 1
                    if tracksTarget, targetLength(upTo: i - 1) > limits.maxRequestTargetBytes { return .invalid(.targetTooLong) }
                } else {
                    fieldLines += 1
                    if fieldLines > limits.maxHeaderCount { return .invalid(.tooManyHeaders) }
                }
                lineStart = i + 1
            } else if b == HTTPGrammar.cr {
                if i + 1 == count {
                    scanned = i  // decide on this CR when its successor arrives
                    return pendingOutcome(at: i, count: count, limits: limits, tracksTarget: tracksTarget)
                }
                guard p[i + 1] == HTTPGrammar.lf else { return refusal(.bareCR, at: i, limits, tracksTarget) }  // RFC 9112 §2.2
            } else if b == HTTPGrammar.sp, tracksTarget, startLineEnd < 0 {
                if firstSpace < 0 {
                    firstSpace = i
                } else if secondSpace < 0 {
                    // Refused here, not when the line ends: a later error must not win only because
                    // the bytes arrived together (the answer may not depend on how they were split).
                    if targetLength(upTo: i) > limits.maxRequestTargetBytes { return .invalid(.targetTooLong) }
                    secondSpace = i
                }
            }
            i += 1
        }
        scanned = i
        return pendingOutcome(at: i, count: count, limits: limits, tracksTarget: tracksTarget)
    }

    /// A framing error at `i`, unless the request-target was already too long before it: bytes
    /// arriving in pieces would have been refused with 414 there, so whole ones are too.
    private func refusal(_ error: HTTPParseError, at i: Int, _ limits: HTTPParserLimits, _ tracksTarget: Bool) -> Outcome {
        if tracksTarget, startLineEnd < 0, targetLength(upTo: i) > limits.maxRequestTargetBytes { return .invalid(.targetTooLong) }
        return .invalid(error)
    }

    /// Refuses an incomplete head as soon as a bound is already exceeded, without waiting for its end.
    private func pendingOutcome(at end: Int, count: Int, limits: HTTPParserLimits, tracksTarget: Bool) -> Outcome {
        if tracksTarget, startLineEnd < 0, targetLength(upTo: end) > limits.maxRequestTargetBytes { return .invalid(.targetTooLong) }
        if count > limits.maxHeaderBytes { return .invalid(.headersTooLarge) }  // RFC 6585 §5 (431)
        return .needMoreData
    }

    /// Bytes of request-target seen so far: from after the first SP to the second SP or `end`.
    private func targetLength(upTo end: Int) -> Int {
        guard firstSpace >= 0 else { return 0 }
        return (secondSpace >= 0 ? secondSpace : end) - firstSpace - 1
    }
}
