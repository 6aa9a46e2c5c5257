import HTTP
import JSON
import Rokt

/// A write that is one Rokt call: no read-modify-write, nothing to merge. Stored as the
/// operation's intent; the engine sends it once under a gateway-minted key and re-sends the
/// same bytes with the same key until Rokt answers for good.
public struct SingleWrite: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case register, theme, page, payoutSetup = "payout_setup", dataDeletion = "data_deletion", privacy

        public var operationType: String {
            switch self {
            case .register: "merchant.register"
            case .theme: "layout.theme"
            case .page: "page.create"
            case .payoutSetup: "payout.setup"
            case .dataDeletion: "merchant.data_deletion"
            case .privacy: "privacy.request"
            }
        }
    }

    public var kind: Kind
    /// Writes in one lane of a merchant run one at a time, first in first out (two theme
    /// PATCHes of one layout land in the order they were accepted).
    public var lane: String
    public var method: String
    public var path: String
    /// What Rokt receives, as JSON; nil sends no body.
    public var body: JSONValue?

    public init(kind: Kind, lane: String, method: String, path: String, body: JSONValue?) {
        self.kind = kind
        self.lane = lane
        self.method = method
        self.path = path
        self.body = body
    }

    /// The engine's job resource; every single-write lane starts with `Self.resourcePrefix`.
    public var resource: String { JobResource.singleWrite(lane: lane).stored }
    static let resourcePrefix = "write:"

    /// The bytes sent: sorted keys, so a retry is byte-identical under its key.
    var encodedBody: [UInt8]? { body.map { RoktJSON.encode($0) } }
}

/// Consumer identifiers of privacy requests: their types and formats, and the redaction that
/// replaces each value with its SHA-256 wherever the gateway keeps or logs a request.
enum PrivacyIdentifiers {
    enum Kind: String, CaseIterable, Sendable {
        case email, emailSHA256 = "email_sha256", phone, phoneSHA256 = "phone_sha256"

        var format: String {
            switch self {
            case .email: "an e-mail address local@domain"
            case .emailSHA256, .phoneSHA256: "64 hex digits of a SHA-256"
            case .phone: "E.164: + then 8 to 15 digits"
            }
        }

        func accepts(_ value: String) -> Bool {
            switch self {
            case .email:
                let parts = value.split(separator: "@", omittingEmptySubsequences: false)
                guard parts.count == 2, (1...64).contains(parts[0].utf8.count), !value.contains(where: \.isWhitespace) else { return false }
                return (try? DomainName(String(parts[1]))) != nil && parts[1].contains(".")
            case .emailSHA256, .phoneSHA256:
                return value.utf8.count == 64 && value.utf8.allSatisfy(\.isHexDigit)
            case .phone:
                let digits = value.utf8.dropFirst()
                return value.hasPrefix("+") && (8...15).contains(digits.count) && digits.allSatisfy { (0x30...0x39).contains($0) }
            }
        }
    }

    struct Identifier: Sendable {
        var type: Kind
        var value: String
    }

    static func hash(_ value: String) -> String { Digest.sha256Hex(value) }

    /// `identifiers[].value` → `identifiers[].valueSha256`; everything else unchanged.
    static func redacted(_ body: JSONValue?) -> JSONValue? {
        guard case .object(var members) = body, case .array(let items)? = members["identifiers"] else { return body }
        members["identifiers"] = .array(
            items.map { item in
                guard case .object(var identifier) = item, case .string(let value)? = identifier["value"] else { return item }
                identifier["value"] = nil
                identifier["valueSha256"] = .string(hash(value))
                return .object(identifier)
            })
        return .object(members)
    }
}
