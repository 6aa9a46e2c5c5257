import FoundationEssentials
import HTTP
import Rokt

/// Reading a JSON request body into a validated value, with field-level 400s.
enum RequestBody {
    static func object(_ request: HTTPRequest) throws(Problem) -> [String: JSONValue] {
        if let type = request.headers["Content-Type"], !type.lowercased().hasPrefix("application/json"), !type.lowercased().contains("+json") {
            throw Problem(status: 415, code: "unsupported_media_type", detail: "Send the body as application/json.")
        }
        guard !request.body.isEmpty else { throw Problem.badRequest("empty_body", "The request needs a JSON object body.") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body, as: JSONValue.self)
        } catch {
            throw Problem.badRequest("invalid_json", "The body is not valid JSON: \(error.description).")
        }
        guard case .object(let object) = value else { throw Problem.badRequest("invalid_json", "The body must be a JSON object.") }
        return object
    }

    /// Collects field errors so one 400 names every problem of the body.
    struct Fields {
        let object: [String: JSONValue]
        var errors: [Problem.FieldError] = []
        let prefix: String

        init(_ object: [String: JSONValue], prefix: String = "") {
            self.object = object
            self.prefix = prefix
        }

        mutating func fail(_ field: String, _ message: String) { errors.append(Problem.FieldError(field: prefix + field, message: message)) }

        /// The field's value; absent or null is nil (and an error when `required`).
        mutating func present(_ field: String, required: Bool) -> JSONValue? {
            guard let value = object[field], value != .null else {
                if required { fail(field, "is required") }
                return nil
            }
            return value
        }

        mutating func integer(_ field: String, required: Bool = true, range: ClosedRange<Int> = 1...Int(Int32.max)) -> Int? {
            guard let value = present(field, required: required) else { return nil }
            guard case .number(let number) = value, number == number.rounded(), let integer = Int(exactly: number) else {
                fail(field, "must be an integer")
                return nil
            }
            guard range.contains(integer) else {
                fail(field, "must be between \(range.lowerBound) and \(range.upperBound)")
                return nil
            }
            return integer
        }

        mutating func string(_ field: String, required: Bool = true, maxLength: Int = 1000) -> String? {
            guard let value = present(field, required: required) else { return nil }
            guard case .string(let text) = value else {
                fail(field, "must be a string")
                return nil
            }
            guard text.count <= maxLength else {
                fail(field, "must be at most \(maxLength) characters")
                return nil
            }
            return text
        }

        mutating func array(_ field: String, required: Bool = false, maxCount: Int = 1000) -> [JSONValue]? {
            guard let value = present(field, required: required) else { return nil }
            guard case .array(let items) = value else {
                fail(field, "must be an array")
                return nil
            }
            guard items.count <= maxCount else {
                fail(field, "may hold at most \(maxCount) items")
                return nil
            }
            return items
        }

        mutating func domain(_ raw: String, field: String) -> String? {
            do {
                return try DomainName(raw).value
            } catch {
                fail(field, "\"\(raw)\" \(error.reason)")
                return nil
            }
        }

        /// Fields that are not part of the schema: refused, so typos never pass silently.
        mutating func refuseUnknown(allowed: Set<String>) {
            for key in object.keys.sorted() where !allowed.contains(key) { fail(key, "is not a known field") }
        }

        func check() throws(Problem) {
            if !errors.isEmpty { throw Problem.validation(errors) }
        }
    }

    /// `{partnerVerticalId, partnerSubVerticalId}`.
    static func verticalPair(_ value: JSONValue, field: String, fields: inout Fields, subRequired: Bool = true) -> (Int, Int?)? {
        guard case .object(let object) = value else {
            fields.fail(field, "must be an object {partnerVerticalId, partnerSubVerticalId}")
            return nil
        }
        var inner = Fields(object, prefix: fields.prefix + field + ".")
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

extension RequestBody.Fields {
    mutating func number(_ field: String, required: Bool = true, range: ClosedRange<Double>) -> Double? {
        guard let value = present(field, required: required) else { return nil }
        guard case .number(let number) = value, number.isFinite else {
            fail(field, "must be a number")
            return nil
        }
        guard range.contains(number) else {
            fail(field, "must be between \(Self.plain(range.lowerBound)) and \(Self.plain(range.upperBound))")
            return nil
        }
        return number
    }

    /// One of `allowed` (the message lists them).
    mutating func choice(_ field: String, _ allowed: [String], required: Bool = true) -> String? {
        guard let text = string(field, required: required, maxLength: 100) else { return nil }
        guard allowed.contains(text) else {
            fail(field, "must be one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return text
    }

    /// An absolute http(s) URL without spaces.
    mutating func url(_ field: String, required: Bool = false) -> String? {
        guard let text = string(field, required: required, maxLength: 2048) else { return nil }
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), !text.contains(where: \.isWhitespace),
              text.split(separator: "/", omittingEmptySubsequences: true).count >= 2 else {
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

    private static func plain(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}

extension UInt8 {
    var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x61...0x66).contains(self | 0x20) }
}
