import FoundationEssentials
import HTTP

/// Any JSON document, decoded without a schema so that validation can name the exact field
/// that is wrong (`blockedVerticals[2].partnerVerticalId must be an integer`) instead of
/// surfacing a decoder's coding path. Integers are kept apart from other numbers.
enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses `bytes`; an empty body is `nil` (callers decide whether that is allowed).
    static func parse(_ bytes: [UInt8]) throws(SandboxError) -> JSONValue? {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return nil }
        do {
            return try JSONParser.parse(bytes, as: JSONValue.self)
        } catch {
            throw .malformedJSON(error.description)
        }
    }

    /// The JSON type's name, for messages (`must be a string, got a number`).
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Reads the members of one JSON object, naming each by its full path in error messages, and
/// refuses members it was not asked about (`rejectUnknownMembers`): a typo such as
/// `blockedVertical` must not silently become "no verticals" under SET semantics.
struct JSONObjectReader {
    let path: String
    private let members: [String: JSONValue]
    private var read: Set<String> = []

    /// `path` is how the object itself is named in messages ("" for the body).
    init(_ value: JSONValue, path: String = "") throws(SandboxError) {
        guard case .object(let members) = value else {
            throw .validation("\(path.isEmpty ? "The request body" : path) must be a JSON object, got \(value.typeName)")
        }
        self.path = path
        self.members = members
    }

    var isEmpty: Bool { members.isEmpty }
    var memberNames: [String] { members.keys.sorted() }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Whether the member is present with the value `null` (as opposed to absent).
    mutating func isExplicitNull(_ key: String) -> Bool {
        read.insert(key)
        return members[key] == .null
    }

    /// The member, or nil when absent or `null`.
    mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    mutating func string(_ key: String) throws(SandboxError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let string) = value else { throw .validation("\(name(key)) must be a string, got \(value.typeName)") }
        return string
    }

    mutating func requiredString(_ key: String) throws(SandboxError) -> String {
        guard let string = try string(key) else { throw .validation("\(name(key)) is required") }
        return string
    }

    mutating func integer(_ key: String) throws(SandboxError) -> Int? {
        guard let value = value(key) else { return nil }
        switch value {
        case .integer(let integer): return integer
        case .number(let number) where number == number.rounded() && abs(number) < 1e15: return Int(number)
        default: throw .validation("\(name(key)) must be an integer, got \(value.typeName)")
        }
    }

    mutating func requiredInteger(_ key: String) throws(SandboxError) -> Int {
        guard let integer = try integer(key) else { throw .validation("\(name(key)) is required") }
        return integer
    }

    mutating func number(_ key: String) throws(SandboxError) -> Double? {
        guard let value = value(key) else { return nil }
        switch value {
        case .integer(let integer): return Double(integer)
        case .number(let number): return number
        default: throw .validation("\(name(key)) must be a number, got \(value.typeName)")
        }
    }

    mutating func bool(_ key: String) throws(SandboxError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let bool) = value else { throw .validation("\(name(key)) must be a boolean, got \(value.typeName)") }
        return bool
    }

    /// The elements of an array member; nil when absent or `null`.
    mutating func array(_ key: String) throws(SandboxError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw .validation("\(name(key)) must be an array, got \(value.typeName)") }
        return elements
    }

    /// Refuses any member no accessor asked for, naming the first (alphabetically).
    func rejectUnknownMembers(allowed: String) throws(SandboxError) {
        if let unknown = members.keys.filter({ !read.contains($0) }).sorted().first {
            throw .validation("\(name(unknown)) is not a recognised field (allowed: \(allowed))")
        }
    }
}

extension JSONValue: JSONBuildable {
    static var jsonNull: JSONValue { .null }
    static func jsonBool(_ value: Bool) -> JSONValue { .bool(value) }
    static func jsonInteger(_ value: Int) -> JSONValue { .integer(value) }
    static func jsonNumber(_ value: Double) -> JSONValue { .number(value) }
    static func jsonString(_ value: String) -> JSONValue { .string(value) }
    static func jsonArray(_ items: [JSONValue]) -> JSONValue { .array(items) }
    static func jsonObject(_ members: [String: JSONValue]) -> JSONValue { .object(members) }
}
