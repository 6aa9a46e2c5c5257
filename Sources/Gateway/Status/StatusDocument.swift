import JSON
import Rokt

/// The status as the gateway shows it: `{status, variants}`.
public struct StatusDocument: Codable, Sendable, Equatable {
    public var status: CascadeStatus
    public var variants: [VariantStatus]

    public init(_ cascade: StatusCascade) {
        status = cascade.status
        variants = cascade.variants
    }

    public var json: JSONValue { .object(["status": .string(status.rawValue), "variants": .array(variants.map(\.jsonValue))]) }
    public var encoded: String { json.serialized }
}
