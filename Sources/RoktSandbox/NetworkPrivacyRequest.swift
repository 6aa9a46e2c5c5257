import JSON
/// A consumer's network-level privacy request: opt out of the Rokt network, or delete their
/// data, found by one or more identifiers.
struct NetworkPrivacyRequest: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable { case optOut = "opt_out", deletion }

    /// The identifier types accepted, each with its format.
    enum IdentifierType: String, Sendable, CaseIterable {
        /// A plain e-mail address (`local@domain.tld`).
        case email
        /// SHA-256 of the trimmed, lower-cased address: 64 hex digits.
        case emailSHA256 = "email_sha256"
        /// E.164: `+` then 8 to 15 digits.
        case phone
        /// SHA-256 of the E.164 number: 64 hex digits.
        case phoneSHA256 = "phone_sha256"
    }

    struct Identifier: Sendable, Equatable {
        var type: IdentifierType
        var value: String
    }

    var kind: Kind
    var identifiers: [Identifier]

    static let maxIdentifiers = 100

    static func parse(_ body: JSONValue?) throws(SandboxError) -> NetworkPrivacyRequest {
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        let types = IdentifierType.allCases.map(\.rawValue).joined(separator: ", ")
        guard let body else { throw .validation("The request body is required: {requestType: \(kinds), identifiers: [{type, value}]}") }
        var reader = try JSONObjectReader(body)
        guard let rawKind = try reader.string("requestType") else { throw .validation("requestType is required (one of \(kinds))") }
        guard let kind = Kind(rawValue: rawKind) else { throw .validation("requestType must be one of \(kinds), got \"\(rawKind)\"") }
        guard let elements = try reader.array("identifiers"), !elements.isEmpty else {
            throw .validation("identifiers is required: at least one {type, value}")
        }
        guard elements.count <= maxIdentifiers else { throw .validation("identifiers has more than \(maxIdentifiers) entries") }
        var identifiers: [Identifier] = []
        for (index, element) in elements.enumerated() {
            var entry = try JSONObjectReader(element, path: "identifiers[\(index)]")
            let rawType = try entry.requiredString("type")
            guard let type = IdentifierType(rawValue: rawType) else {
                throw .validation("identifiers[\(index)].type must be one of \(types), got \"\(rawType)\"")
            }
            let value = try entry.requiredString("value")
            guard isValid(value, as: type) else {
                throw .validation("identifiers[\(index)].value is not a valid \(type.rawValue) (\(formatHint(type)))")
            }
            try entry.rejectUnknownMembers(allowed: "type, value")
            identifiers.append(Identifier(type: type, value: value))
        }
        try reader.rejectUnknownMembers(allowed: "requestType, identifiers")
        return NetworkPrivacyRequest(kind: kind, identifiers: identifiers)
    }

    static func isValid(_ value: String, as type: IdentifierType) -> Bool {
        switch type {
        case .email:
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && parts[0].utf8.count <= 64
                && !parts[0].contains(" ") && Hostname.normalize(String(parts[1])) != nil
        case .emailSHA256, .phoneSHA256:
            return value.utf8.count == 64
                && value.utf8.allSatisfy {
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20)
                }
        case .phone:
            let digits = value.utf8.dropFirst()
            return value.hasPrefix("+") && (8...15).contains(digits.count)
                && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
    }

    private static func formatHint(_ type: IdentifierType) -> String {
        switch type {
        case .email: "an e-mail address"
        case .emailSHA256, .phoneSHA256: "64 hex digits of a SHA-256"
        case .phone: "E.164: + then 8 to 15 digits"
        }
    }
}
