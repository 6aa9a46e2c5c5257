import HTTP
import JSON

/// Reading a JSON request body into a validated value, with field-level 400s.
enum RequestBody {
    static func object(_ request: HTTPRequest) throws(Problem) -> [String: JSONValue] {
        if let type = request.headers["Content-Type"], !type.lowercased().hasPrefix("application/json"), !type.lowercased().contains("+json") {
            throw Problem(status: 415, code: .unsupportedMediaType, detail: "Send the body as application/json.")
        }
        guard !request.body.isEmpty else { throw Problem.badRequest(.emptyBody, "The request needs a JSON object body.") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw Problem.badRequest(.invalidJSON, "The body is not valid JSON: \(error.description).")
        }
        guard case .object(let object) = value else { throw Problem.badRequest(.invalidJSON, "The body must be a JSON object.") }
        return object
    }

    /// Collects field errors so one 400 names every problem of the body.
    typealias Fields = JSONFields

    /// `{partnerVerticalId, partnerSubVerticalId}`.
    static func verticalPair(_ value: JSONValue, field: String, fields: inout Fields, subRequired: Bool = true) -> (Int, Int?)? {
        guard case .object(let object) = value else {
            fields.fail(field, "must be an object {partnerVerticalId, partnerSubVerticalId}")
            return nil
        }
        // An empty `field` is the body itself: its members are named bare.
        var inner = Fields(object, prefix: field.isEmpty ? fields.prefix : fields.prefix + field + ".")
        let vertical = inner.integer("partnerVerticalId")
        let sub = inner.integer("partnerSubVerticalId", required: subRequired)
        inner.refuseUnknown(allowed: ["partnerVerticalId", "partnerSubVerticalId", "policy"])
        if let policy = object["policy"], policy != .string("Block") { inner.fail("policy", "must be \"Block\" (the only policy)") }
        fields.errors += inner.errors
        guard let vertical, inner.errors.isEmpty else { return nil }
        return (vertical, sub)
    }
}

extension RequestBody {
    /// A body that may be absent: nothing (or only whitespace) reads as `{}`.
    static func optionalObject(_ request: HTTPRequest) throws(Problem) -> [String: JSONValue] {
        let blank = request.body.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        return blank ? [:] : try object(request)
    }
}

/// The gateway's own rules on top of the shared reader, and its 400.
extension JSONFields {
    /// A 400 `validation_failed` naming every field error collected.
    func check() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors.map { Problem.FieldError(field: $0.field, message: $0.message) }) }
    }

    /// `value` when no field failed, else the 400 naming every failure. A required field that
    /// reads as nil has always failed, so this unwraps what `check()` guarantees without `!`.
    func valid<Value>(_ value: Value?) throws(Problem) -> Value {
        try check()
        guard let value else { throw Problem.validation([]) }
        return value
    }

    mutating func domain(_ raw: String, field: String) -> String? {
        do {
            return try DomainName(raw).value
        } catch {
            fail(field, "\"\(raw)\" \(error.reason)")
            return nil
        }
    }

    /// An absolute http(s) URL without spaces.
    mutating func url(_ field: String, required: Bool = false) -> String? {
        guard let text = string(field, required: required, maxLength: 2048) else { return nil }
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), !text.contains(where: \.isWhitespace),
            text.split(separator: "/", omittingEmptySubsequences: true).count >= 2
        else {
            fail(field, "must be an absolute http(s) URL")
            return nil
        }
        return text
    }

    /// A color token: `#RRGGBB` or `#RRGGBBAA`.
    mutating func color(_ field: String) -> String? {
        guard let text = string(field, required: false, maxLength: 9) else {
            if object[field] == JSONValue.null { fail(field, "cannot be null: leave the token out to keep it") }
            return nil
        }
        let digits = text.utf8.dropFirst()
        guard text.hasPrefix("#"), digits.count == 6 || digits.count == 8, digits.allSatisfy(\.isHexDigit) else {
            fail(field, "must be a color #RRGGBB or #RRGGBBAA")
            return nil
        }
        return text
    }
}

extension UInt8 {
    var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x61...0x66).contains(self | 0x20) }
}
