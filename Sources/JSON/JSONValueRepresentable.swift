extension JSONValue {
    /// Parses JSON text with our depth-bounded parser (far cheaper than JSONDecoder for JSONValue).
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try JSONParser.parse(bytes)
    }
}

/// A model read and written through `JSONValue` rather than Codable: the types on the hot
/// paths (every controls round trip), where Foundation's JSONEncoder/JSONDecoder cost most.
/// Encoders and decoders built on Codable use it when present.
public protocol JSONValueRepresentable {
    init(json: JSONValue) throws(JSONShapeError)
    var jsonValue: JSONValue { get }
}

extension JSONValue: JSONValueRepresentable {
    public init(json: JSONValue) { self = json }
    public var jsonValue: JSONValue { self }
}

/// JSON that parsed but does not have the shape a model needs.
public struct JSONShapeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// The members of an object, or a shape error naming `what`.
    public func members(of what: String) throws(JSONShapeError) -> [String: JSONValue] {
        guard case .object(let members) = self else { throw JSONShapeError("\(what): expected an object") }
        return members
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// An optional member: absent and null are both nil; another type is a shape error.
    public func optional<T>(_ key: String, _ convert: (JSONValue) -> T?) throws(JSONShapeError) -> T? {
        guard let value = self[key], value != .null else { return nil }
        guard let converted = convert(value) else { throw JSONShapeError("\(key): unexpected type") }
        return converted
    }

    public func required<T>(_ key: String, _ convert: (JSONValue) -> T?) throws(JSONShapeError) -> T {
        guard let value = try optional(key, convert) else { throw JSONShapeError("\(key): missing") }
        return value
    }

    /// An optional array of models.
    public func models<T: JSONValueRepresentable>(_ key: String, as type: T.Type) throws(JSONShapeError) -> [T]? {
        guard let items = try optional(key, \.arrayValue) else { return nil }
        var models: [T] = []
        models.reserveCapacity(items.count)
        for item in items { models.append(try T(json: item)) }
        return models
    }
}
