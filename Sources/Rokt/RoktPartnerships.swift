import HTTP
import JSON

/// Paths of the Partnerships API; account ids are percent-encoded as path segments.
public enum RoktPath {
    public static let register = "/v1/accounts/register/partnership"
    public static let accounts = "/v1/partnership/accounts"
    public static let privacyRequests = "/v1/partnership/network-privacy-requests"

    public static func account(_ id: String) -> String { "/v1/partnership/accounts/" + PercentEncoding.encodePathSegment(id) }
    public static func controls(_ id: String) -> String { account(id) + "/marketplacecontrolslists" }
    public static func status(_ id: String) -> String { account(id) + "/status" }
    public static func layout(_ id: String, _ layoutId: String) -> String { account(id) + "/layouts/" + PercentEncoding.encodePathSegment(layoutId) }
    public static func pages(_ id: String) -> String { account(id) + "/pages" }
    public static func payoutSetup(_ id: String) -> String { account(id) + "/payout-setup" }
    public static func dataDeletion(_ id: String) -> String { account(id) + "/data-deletion-requests" }
    public static func operation(_ id: String) -> String { "/v1/partnership/operations/" + PercentEncoding.encodePathSegment(id) }

    /// The ids a caller may put into a Rokt path (account and layout ids): 1 to 128 characters
    /// of `A–Z a–z 0–9 . _ ~ -` (RFC 3986's unreserved set, so they travel unencoded), other
    /// than `.` and `..` (which a server or proxy would resolve as "this" and "parent" segment).
    public static func isSafeIdentifier(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id != "." && id != ".."
            && id.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "-")
            }
    }

    public static let safeIdentifierRule = "must be 1 to 128 characters of letters, digits, '.', '_', '~', '-', and not '.' or '..'"

    /// Whether `path` (no query) is absolute and every segment is non-empty and, decoded, neither
    /// `.` nor `..`: what the client checks before sending, whatever built the path.
    public static func isSafe(path: String) -> Bool {
        guard path.hasPrefix("/") else { return false }
        for segment in path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard !segment.isEmpty else { return false }
            // Percent-encoded dots are dots too (RFC 3986 §6.2.2.2).
            let raw = String(decoding: segment, as: UTF8.self)
            if raw.contains("?") || raw.contains("#") { return false }
            guard let decoded = PercentEncoding.decode(raw), decoded != ".", decoded != ".." else { return false }
        }
        return true
    }
}

/// The JSON the gateway sends: the one writer's bytes, keys sorted so the same value always
/// makes the same bytes (a retry must be byte-identical to reuse its idempotency key).
public enum RoktJSON {
    public static func encode(_ model: some JSONValueRepresentable) -> [UInt8] { model.jsonValue.serializedBytes }
}

extension RoktClient {
    public func getControls(_ account: String) async -> Outcome<MarketplaceControls> {
        await decoded(send(.get, RoktPath.controls(account)))
    }

    /// PUT of the full controls (SET semantics), with the contentHash inside `controls` when known.
    public func putControls(_ account: String, body: [UInt8], idempotencyKey: String, dryRun: Bool = false) async -> Outcome<RoktResponse> {
        await send(.put, RoktPath.controls(account), query: dryRun ? [("dry_run", "true")] : [], body: body, idempotencyKey: idempotencyKey)
    }

    public func getStatus(_ account: String) async -> Outcome<StatusCascade> {
        await decoded(send(.get, RoktPath.status(account)))
    }

    public func putStatus(_ account: String, body: [UInt8], idempotencyKey: String, dryRun: Bool = false) async -> Outcome<RoktResponse> {
        await send(.put, RoktPath.status(account), query: dryRun ? [("dry_run", "true")] : [], body: body, idempotencyKey: idempotencyKey)
    }

    public func getOperation(_ id: String) async -> Outcome<RoktOperation> {
        await decoded(send(.get, RoktPath.operation(id)))
    }

    private func decoded<T: Decodable>(_ outcome: Outcome<RoktResponse>) -> Outcome<T> {
        switch outcome.result {
        case .success(let response):
            do {
                return (.success(try response.decode(T.self)), outcome.call)
            } catch {
                return (.failure(error), outcome.call)
            }
        case .failure(let error):
            return (.failure(error), outcome.call)
        }
    }
}

/// The body of a status PUT.
public struct StatusChange: Codable, Sendable, Equatable, JSONValueRepresentable {
    public var status: PlacementStatus
    public init(status: PlacementStatus) { self.status = status }

    public init(json: JSONValue) throws(JSONShapeError) {
        let raw = try json.members(of: "StatusChange").required("status", \.stringValue)
        guard let status = PlacementStatus(rawValue: raw) else { throw JSONShapeError("status: unknown value \(raw)") }
        self.status = status
    }

    public var jsonValue: JSONValue { .object(["status": .string(status.rawValue)]) }
}
