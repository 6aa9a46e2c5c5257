#if canImport(Glibc)
    import Glibc
#endif

/// Writes message heads. Handlers choose header values, so CR, LF and NUL in them are
/// replaced by spaces and fields with invalid names are dropped: a handler bug must never
/// become response splitting (RFC 9110 §5.5).
public enum HTTPSerializer {
    /// The response head; `contentLength` nil with `chunked` false means close-delimited.
    static func responseHead(
        _ response: HTTPResponse, version: HTTPVersion, contentLength: Int?, chunked: Bool,
        keepAlive: Bool, date: String, into out: inout [UInt8]
    ) {
        out.append(contentsOf: "HTTP/1.1 \(response.status.code) \(response.status.reasonPhrase)\r\n".utf8)
        var sawDate = false
        for field in response.headers {
            // The server owns framing and connection management.
            if field.name.asciiCaseInsensitiveEquals("Content-Length")
                || field.name.asciiCaseInsensitiveEquals("Transfer-Encoding")
                || field.name.asciiCaseInsensitiveEquals("Connection")
            {
                continue
            }
            if field.name.asciiCaseInsensitiveEquals("Date") { sawDate = true }
            appendField(field.name, field.value, to: &out)
        }
        if !sawDate { appendField("Date", date, to: &out) }
        if let contentLength {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(contentLength).utf8)
            out.append(contentsOf: "\r\n".utf8)
        } else if chunked {
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version == .http1_0 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
    }

    /// A request head for the client; the caller's headers plus the framing it chose.
    public static func requestHead(method: HTTPMethod, target: String, headers: HTTPHeaders, into out: inout [UInt8]) {
        out.append(contentsOf: method.rawValue.utf8)
        out.append(0x20)
        out.append(contentsOf: target.utf8)
        out.append(contentsOf: " HTTP/1.1\r\n".utf8)
        for field in headers { appendField(field.name, field.value, to: &out) }
        out.append(contentsOf: "\r\n".utf8)
    }

    static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        guard isToken(name) else { return }
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        // A CR, LF or NUL in a value would split the response: replaced by spaces (rare: copy whole otherwise).
        if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            for byte in value.utf8 { out.append(byte == 0x0D || byte == 0x0A || byte == 0x00 ? 0x20 : byte) }
        } else {
            out.append(contentsOf: value.utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
    }

    /// tchar of RFC 9110 §5.6.2.
    static func isToken(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
                UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                continue
            default:
                return false
            }
        }
        return true
    }
}

/// The `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), formatted at most once a second.
final class HTTPDateCache {
    private var second: Int = -1
    private var cached = ""

    var now: String {
        var t = time(nil)
        if t != second {
            second = t
            cached = HTTPDateCache.format(&t)
        }
        return cached
    }

    static func format(_ t: inout time_t) -> String {
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
