extension HTTPResponse {
    /// An RFC 9457 `application/problem+json` response with `"type":"about:blank"`, whose
    /// title is then the status's reason phrase (§4.2.1). `extensions` are extra string
    /// members appended after `detail`, in order. Built by hand: the HTTP module has no
    /// Foundation, and a fixed member order keeps the bytes predictable for tests and caches.
    public static func problem(
        _ status: HTTPStatus, detail: String, extensions: [(name: String, value: String)] = [],
        headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        var json = #"{"type":"about:blank","title":"# + JSONString.escape(status.reasonPhrase)
        json += #","status":\#(status.code),"detail":"# + JSONString.escape(detail)
        for member in extensions {
            json += "," + JSONString.escape(member.name) + ":" + JSONString.escape(member.value)
        }
        json += "}"
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/problem+json")
        return HTTPResponse(status: status, headers: headers, body: json)
    }
}

extension HTTPResponse {
    /// The opaque 500 for a failure whose text must stay in the log: only `errorId` is shown.
    public static func internalError(id: String) -> HTTPResponse {
        .problem(.internalServerError, detail: "An unexpected error occurred (\(id))", extensions: [(name: "errorId", value: id)])
    }
}

/// JSON string literals (RFC 8259 §7).
public enum JSONString {
    /// `s` as a quoted JSON string: `"` and `\` escaped, control characters as `\n`-style
    /// or `\u00XX` escapes; everything else, non-ASCII included, kept as UTF-8.
    public static func escape(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) { return "\"" + s + "\"" }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(s.utf8.count + 2)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x00..<0x20:
                out += Array(#"\u00"#.utf8)
                out += [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
