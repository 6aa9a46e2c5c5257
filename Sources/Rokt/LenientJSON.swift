import JSON
/// Reading Rokt's answers where its documents leave the shape open: a member may be spelt in
/// camelCase or snake_case, an id may come as a string or a number, a number as a string, and
/// members nobody asked about are ignored. Types are still checked: a list where an object
/// belongs is a shape error, not a guess.
extension Dictionary where Key == String, Value == JSONValue {
    /// The member `name` (camelCase), else its snake_case spelling; null counts as absent.
    public func member(_ name: String) -> JSONValue? {
        if let value = self[name], value != .null { return value }
        let snake = RoktNames.snakeCase(name)
        if snake != name, let value = self[snake], value != .null { return value }
        return nil
    }

    /// The first of `names` present (each in either spelling).
    public func member(anyOf names: [String]) -> JSONValue? {
        for name in names { if let value = member(name) { return value } }
        return nil
    }

    /// Like `optional`, with `member`'s spellings.
    public func lenient<T>(_ name: String, _ convert: (JSONValue) -> T?) throws(JSONShapeError) -> T? {
        guard let value = member(name) else { return nil }
        guard let converted = convert(value) else { throw JSONShapeError("\(name): unexpected type") }
        return converted
    }

    public func lenientRequired<T>(_ name: String, _ convert: (JSONValue) -> T?) throws(JSONShapeError) -> T {
        guard let value = try lenient(name, convert) else { throw JSONShapeError("\(name): missing") }
        return value
    }

    /// An optional array of models, with `member`'s spellings.
    public func lenientModels<T: JSONValueRepresentable>(_ name: String, as type: T.Type) throws(JSONShapeError) -> [T]? {
        guard let items = try lenient(name, \.arrayValue) else { return nil }
        var models: [T] = []
        models.reserveCapacity(items.count)
        for item in items { models.append(try T(json: item)) }
        return models
    }
}

extension JSONValue {
    /// An identifier: a string, or an integer sent as a number (written without a fraction).
    public var idValue: String? {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .number(let value) where value == value.rounded() && abs(value) < 1e15: return String(Int64(value))
        default: return nil
        }
    }

    /// An integer, or a string holding one (`"1500"`).
    public var lenientIntValue: Int? {
        switch self {
        case .integer, .number: return intValue
        case .string(let text):
            let trimmed = text.trimmingHTTPWhitespace()
            guard !trimmed.isEmpty, trimmed.utf8.count <= 18 else { return nil }
            return Int(trimmed)
        default: return nil
        }
    }
}

public enum RoktNames {
    /// `partnerVerticalId` → `partner_vertical_id`.
    public static func snakeCase(_ name: String) -> String {
        guard name.utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return name }
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count + 4)
        for byte in name.utf8 {
            if (0x41...0x5A).contains(byte) {
                if !out.isEmpty { out.append(UInt8(ascii: "_")) }
                out.append(byte | 0x20)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The Ecommerce placements answer `{result}`.
public enum RoktPlacements {
    /// `result` as a boolean, or the strings `"true"`/`"false"` (any case); nil otherwise.
    public static func result(of answer: JSONValue) -> Bool? {
        guard let value = answer.objectValue?.member("result") else { return nil }
        switch value {
        case .bool(let result): return result
        case .string(let text):
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: return nil
            }
        default: return nil
        }
    }
}
