/// What one `ChunkedBodyDecoder.decode` call achieved.
public enum ChunkedDecodeResult: Equatable, Sendable {
    /// Every byte given was consumed (`consumed` == the buffer's count); the body is not finished.
    case needMoreData(consumed: Int)
    /// The last chunk and trailer section ended after `consumed` bytes; the rest belongs to the next message.
    case complete(consumed: Int)
    case invalid(HTTPParseError)
}

/// A resumable decoder of the chunked transfer coding (RFC 9112 §7.1).
///
/// Each call passes the bytes not yet consumed; the decoder takes what it can, appends chunk
/// data to `body` and remembers where it stopped, one byte of framing at a time, so a body
/// arriving byte by byte decodes exactly like one arriving whole. Chunk extensions and
/// trailer fields are validated, bounded and discarded. A caller enforcing a body size limit
/// checks `decodedBytes` (or `body.count`) after each call.
public struct ChunkedBodyDecoder: Sendable {
    private enum State: Equatable, Sendable {
        case size  // chunk-size digits
        case extBeforeName  // after ";" (BWS allowed)
        case extName
        case extBeforeValue  // after "=" (BWS allowed)
        case extToken
        case extQuoted
        case extQuotedEscape
        case extAfterName  // BWS after a name: "=", ";" or CR may follow
        case extAfter  // after digits or a value: BWS, ";" or CR
        case sizeLF  // CR seen at the end of the size line
        case data
        case dataCR, dataLF  // the CRLF closing chunk-data
        case trailerLineStart
        case trailerName
        case trailerNameSpace  // whitespace after a trailer name: only an error remains to choose
        case trailerValue
        case trailerLF
        case finalLF
        case done
        case failed(HTTPParseError)
    }

    public let limits: HTTPParserLimits
    /// Chunk-data bytes appended to `body` so far, over every call.
    public private(set) var decodedBytes = 0
    private var state = State.size
    private var chunkSize = 0, sizeDigits = 0, lineBytes = 0, trailerBytes = 0, remaining = 0

    public init(limits: HTTPParserLimits = .init()) { self.limits = limits }

    public mutating func decode(_ buffer: UnsafeRawBufferPointer, into body: inout [UInt8]) -> ChunkedDecodeResult {
        if case .failed(let error) = state { return .invalid(error) }
        var i = 0
        let n = buffer.count
        while i < n {
            if state == .done { return .complete(consumed: i) }
            if state == .data {
                // Chunk data is copied in bulk; only framing is walked byte by byte.
                let take = min(remaining, n - i)
                body.append(contentsOf: HTTPGrammar.bytes(buffer, i..<(i + take)))
                decodedBytes += take
                remaining -= take
                i += take
                if remaining == 0 { state = .dataCR }
                continue
            }
            if let error = step(buffer[i]) {
                state = .failed(error)
                return .invalid(error)
            }
            i += 1
        }
        return state == .done ? .complete(consumed: i) : .needMoreData(consumed: i)
    }

    /// Advances the framing state machine by one byte.
    @inline(__always)
    private mutating func step(_ b: UInt8) -> HTTPParseError? {
        typealias G = HTTPGrammar
        switch state {
        case .size, .extBeforeName, .extName, .extAfterName, .extBeforeValue, .extToken, .extQuoted, .extQuotedEscape, .extAfter:
            if b != G.cr {
                lineBytes += 1
                // Extensions are skipped, so their length is bounded rather than trusted (RFC 9112 §7.1.1).
                if lineBytes > limits.maxChunkLineBytes { return .chunkExtensionTooLong }
            }
            return sizeLineStep(b)
        case .sizeLF:
            guard b == G.lf else { return .bareCR }
            lineBytes = 0
            if chunkSize == 0 {
                state = .trailerLineStart  // last-chunk (RFC 9112 §7.1)
            } else {
                remaining = chunkSize
                state = .data
            }
        case .data:
            preconditionFailure("chunk data is consumed in bulk")
        case .dataCR:
            guard b == G.cr else { return .invalidChunkFraming }  // RFC 9112 §7.1: chunk-data CRLF
            state = .dataLF
        case .dataLF:
            guard b == G.lf else { return .invalidChunkFraming }
            chunkSize = 0; sizeDigits = 0
            state = .size
        case .trailerLineStart, .trailerName, .trailerNameSpace, .trailerValue, .trailerLF, .finalLF:
            trailerBytes += 1
            if trailerBytes > limits.maxTrailerBytes { return .trailersTooLarge }
            return trailerStep(b)
        case .done, .failed:
            break
        }
        return nil
    }

    /// chunk-size [ chunk-ext ] CRLF, where chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
    /// and value = token / quoted-string (RFC 9112 §7.1.1). BWS before CRLF is tolerated.
    private mutating func sizeLineStep(_ b: UInt8) -> HTTPParseError? {
        typealias G = HTTPGrammar
        if b == G.lf { return .bareLF }  // RFC 9112 §2.2, in every state of the line
        switch state {
        case .size:
            if let digit = hexValue(b) {
                // 16 hex digits hold any Int; the top one must leave the sign bit clear.
                guard sizeDigits < 16, chunkSize <= Int.max >> 4 else { return .invalidChunkSize }
                chunkSize = chunkSize << 4 | digit
                sizeDigits += 1
                return nil
            }
            guard sizeDigits > 0 else { return .invalidChunkSize }
            switch b {
            case G.cr: state = .sizeLF
            case UInt8(ascii: ";"): state = .extBeforeName
            case G.sp, G.htab: state = .extAfter
            default: return .invalidChunkSize
            }
        case .extBeforeName:
            if G.isTokenChar(b) { state = .extName } else if !G.isWhitespace(b) { return .invalidChunkExtension }
        case .extName, .extAfterName, .extToken, .extAfter:
            let inToken = state == .extName || state == .extToken
            if inToken, G.isTokenChar(b) { return nil }
            let afterName = state == .extName || state == .extAfterName
            switch b {
            case G.cr: state = .sizeLF
            case UInt8(ascii: ";"): state = .extBeforeName
            case G.sp, G.htab: state = afterName ? .extAfterName : .extAfter
            case UInt8(ascii: "=") where afterName: state = .extBeforeValue
            default: return .invalidChunkExtension
            }
        case .extBeforeValue:
            if b == UInt8(ascii: "\"") {
                state = .extQuoted
            } else if G.isTokenChar(b) {
                state = .extToken
            } else if !G.isWhitespace(b) {
                return .invalidChunkExtension
            }
        case .extQuoted:
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
            switch b {
            case UInt8(ascii: "\""): state = .extAfter
            case UInt8(ascii: "\\"): state = .extQuotedEscape
            default: if !G.isFieldValueByte(b) { return .invalidChunkExtension }
            }
        case .extQuotedEscape:
            guard G.isFieldValueByte(b) else { return .invalidChunkExtension }  // quoted-pair
            state = .extQuoted
        default:
            break
        }
        return nil
    }

    /// trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2): validated like header fields, then dropped.
    private mutating func trailerStep(_ b: UInt8) -> HTTPParseError? {
        typealias G = HTTPGrammar
        switch state {
        case .trailerLineStart:
            if b == G.cr {
                state = .finalLF
            } else if G.isTokenChar(b) {
                state = .trailerName
            } else {
                return b == G.lf ? .bareLF : G.isWhitespace(b) ? .obsoleteLineFolding : .invalidHeaderName
            }
        case .trailerName:
            if G.isTokenChar(b) { return nil }
            switch b {
            case G.colon: state = .trailerValue
            case G.sp, G.htab: state = .trailerNameSpace
            case G.lf: return .bareLF
            default: return .invalidHeaderName
            }
        case .trailerNameSpace:
            if G.isWhitespace(b) { return nil }
            return b == G.colon ? .whitespaceBeforeColon : .invalidHeaderName  // RFC 9112 §5.1
        case .trailerValue:
            if G.isFieldValueByte(b) { return nil }
            switch b {
            case G.cr: state = .trailerLF
            case G.lf: return .bareLF
            default: return .invalidHeaderValue
            }
        case .trailerLF:
            guard b == G.lf else { return .bareCR }
            state = .trailerLineStart
        case .finalLF:
            guard b == G.lf else { return .bareCR }
            state = .done
        default:
            break
        }
        return nil
    }

    @inline(__always) private func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(b &- 0x30)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(b &- 0x57)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(b &- 0x37)
        default: nil
        }
    }
}

/// The serializer's side of the chunked coding (RFC 9112 §7.1).
public enum ChunkedEncoding {
    /// One chunk: hex size, CRLF, the bytes, CRLF. Empty input gives no bytes at all,
    /// because a zero-size chunk would end the body.
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        let size = bytes.count
        var out: [UInt8] = []
        out.reserveCapacity(16 + 4 + size)
        var shift = (Int.bitWidth - size.leadingZeroBitCount - 1) / 4 * 4  // most significant hex digit
        while shift >= 0 {
            let v = (size >> shift) & 0xF
            out.append(UInt8(v < 10 ? 0x30 + v : 0x57 + v))  // lowercase hex
            shift -= 4
        }
        out.append(HTTPGrammar.cr); out.append(HTTPGrammar.lf)
        out.append(contentsOf: bytes)
        out.append(HTTPGrammar.cr); out.append(HTTPGrammar.lf)
        return out
    }

    /// last-chunk followed by an empty trailer section.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}
