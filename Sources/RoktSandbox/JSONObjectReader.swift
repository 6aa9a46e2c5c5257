import JSON

extension JSONValue {
    /// Parses a request body; an empty body is `nil` (callers decide whether that is allowed).
    static func parseBody(_ bytes: [UInt8]) throws(SandboxError) -> JSONValue? {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return nil }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw .malformedJSON(error.description)
        }
    }
}

/// Reads the members of one JSON object the way Rokt validates a body: the first problem is the
/// answer (`blockedVerticals[2].partnerVerticalId must be an integer, got a string`), and
/// members nobody asked about are refused (`rejectUnknownMembers`): a typo such as
/// `blockedVertical` must not silently become "no verticals" under SET semantics.
struct JSONObjectReader {
    let path: String
    private var fields: JSONFields
    private var read: Set<String> = []

    /// `path` is how the object itself is named in messages ("" for the body).
    init(_ value: JSONValue, path: String = "") throws(SandboxError) {
        guard case .object(let members) = value else {
            throw .validation("\(path.isEmpty ? "The request body" : path) must be a JSON object, got \(value.typeName)")
        }
        self.path = path
        fields = JSONFields(members, prefix: path.isEmpty ? "" : path + ".", namesFoundType: true)
    }

    var isEmpty: Bool { fields.object.isEmpty }
    var memberNames: [String] { fields.object.keys.sorted() }

    func name(_ key: String) -> String { fields.prefix + key }

    /// Whether the member is present with the value `null` (as opposed to absent).
    mutating func isExplicitNull(_ key: String) -> Bool {
        read.insert(key)
        return fields.object[key] == .null
    }

    /// The member, or nil when absent or `null`.
    mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        return fields.present(key, required: false)
    }

    mutating func string(_ key: String) throws(SandboxError) -> String? {
        try reading(key) { $0.string(key, required: false, maxLength: nil) }
    }

    mutating func requiredString(_ key: String) throws(SandboxError) -> String {
        guard let string = try string(key) else { throw .validation("\(name(key)) is required") }
        return string
    }

    mutating func integer(_ key: String) throws(SandboxError) -> Int? {
        try reading(key) { $0.integer(key, required: false, range: nil) }
    }

    mutating func requiredInteger(_ key: String) throws(SandboxError) -> Int {
        guard let integer = try integer(key) else { throw .validation("\(name(key)) is required") }
        return integer
    }

    mutating func number(_ key: String) throws(SandboxError) -> Double? {
        try reading(key) { $0.number(key, required: false, range: nil) }
    }

    mutating func bool(_ key: String) throws(SandboxError) -> Bool? {
        try reading(key) { $0.bool(key, required: false) }
    }

    /// The elements of an array member; nil when absent or `null`.
    mutating func array(_ key: String) throws(SandboxError) -> [JSONValue]? {
        try reading(key) { $0.array(key, required: false, maxCount: nil) }
    }

    /// Refuses any member no accessor asked for, naming the first (alphabetically).
    func rejectUnknownMembers(allowed: String) throws(SandboxError) {
        if let unknown = fields.object.keys.filter({ !read.contains($0) }).sorted().first {
            throw .validation("\(name(unknown)) is not a recognised field (allowed: \(allowed))")
        }
    }

    /// Reads one member through the shared reader; its first error is the answer.
    private mutating func reading<T>(_ key: String, _ read: (inout JSONFields) -> T?) throws(SandboxError) -> T? {
        self.read.insert(key)
        let value = read(&fields)
        if let error = fields.errors.first { throw .validation("\(error.field) \(error.message)") }
        return value
    }
}
