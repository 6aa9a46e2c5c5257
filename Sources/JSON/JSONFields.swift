/// One problem with one member of a JSON document, named by its path
/// (`blockedVerticals[2].partnerVerticalId`): the `{field, message}` our 400s list.
public struct JSONFieldError: Sendable, Equatable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Reads the members of one JSON object and collects a `JSONFieldError` for each that is
/// missing, of the wrong type or out of bounds, so one answer can name every problem of a body.
/// A reader returns nil where it failed; the caller checks `errors` once at the end.
///
/// The defaults suit API input: members are required, integers are positive 32-bit ids,
/// strings and arrays are bounded; pass `nil` bounds for none.
public struct JSONFields: Sendable {
    public let object: [String: JSONValue]
    /// Put before every field name (`"add."`, `"blockedVerticals[2]."`).
    public let prefix: String
    public var errors: [JSONFieldError] = []
    /// Whether a wrong type's message also names what was sent (`must be a string, got a number`).
    public let namesFoundType: Bool

    public init(_ object: [String: JSONValue], prefix: String = "", namesFoundType: Bool = false) {
        self.object = object
        self.prefix = prefix
        self.namesFoundType = namesFoundType
    }

    public mutating func fail(_ field: String, _ message: String) { errors.append(JSONFieldError(field: prefix + field, message: message)) }

    /// The field's value; absent or null is nil (and an error when `required`).
    public mutating func present(_ field: String, required: Bool) -> JSONValue? {
        guard let value = object[field], value != .null else {
            if required { fail(field, "is required") }
            return nil
        }
        return value
    }

    public mutating func integer(_ field: String, required: Bool = true, range: ClosedRange<Int>? = 1...Int(Int32.max)) -> Int? {
        guard let value = present(field, required: required) else { return nil }
        guard let integer = value.intValue else { return wrongType(field, "an integer", value) }
        if let range, !range.contains(integer) { return outOfRange(field, Self.plain(range)) }
        return integer
    }

    public mutating func number(_ field: String, required: Bool = true, range: ClosedRange<Double>?) -> Double? {
        guard let value = present(field, required: required) else { return nil }
        guard let number = value.doubleValue, number.isFinite else { return wrongType(field, "a number", value) }
        if let range, !range.contains(number) { return outOfRange(field, Self.plain(range)) }
        return number
    }

    public mutating func string(_ field: String, required: Bool = true, maxLength: Int? = 1000) -> String? {
        guard let value = present(field, required: required) else { return nil }
        guard case .string(let text) = value else { return wrongType(field, "a string", value) }
        if let maxLength, text.count > maxLength {
            fail(field, "must be at most \(maxLength) characters")
            return nil
        }
        return text
    }

    public mutating func bool(_ field: String, required: Bool = true) -> Bool? {
        guard let value = present(field, required: required) else { return nil }
        guard case .bool(let flag) = value else { return wrongType(field, "a boolean", value) }
        return flag
    }

    public mutating func array(_ field: String, required: Bool = false, maxCount: Int? = 1000) -> [JSONValue]? {
        guard let value = present(field, required: required) else { return nil }
        guard case .array(let items) = value else { return wrongType(field, "an array", value) }
        if let maxCount, items.count > maxCount {
            fail(field, "may hold at most \(maxCount) items")
            return nil
        }
        return items
    }

    /// One of `allowed` (the message lists them).
    public mutating func choice(_ field: String, _ allowed: [String], required: Bool = true) -> String? {
        guard let text = string(field, required: required, maxLength: 100) else { return nil }
        guard allowed.contains(text) else {
            fail(field, "must be one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return text
    }

    /// Members that are not part of the schema: refused, so typos never pass silently.
    public mutating func refuseUnknown(allowed: Set<String>) {
        for key in object.keys.sorted() where !allowed.contains(key) { fail(key, "is not a known field") }
    }

    private mutating func wrongType<T>(_ field: String, _ expected: String, _ value: JSONValue) -> T? {
        fail(field, "must be \(expected)" + (namesFoundType ? ", got \(value.typeName)" : ""))
        return nil
    }

    private mutating func outOfRange<T>(_ field: String, _ bounds: (String, String)) -> T? {
        fail(field, "must be between \(bounds.0) and \(bounds.1)")
        return nil
    }

    private static func plain(_ range: ClosedRange<Int>) -> (String, String) { (String(range.lowerBound), String(range.upperBound)) }

    private static func plain(_ range: ClosedRange<Double>) -> (String, String) { (plain(range.lowerBound), plain(range.upperBound)) }

    private static func plain(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}
