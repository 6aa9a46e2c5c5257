import JSON

/// A log field's value: numbers and booleans are written bare in JSON (`"status":200`,
/// `"duration_ms":12.3`), strings quoted. String literals and interpolations convert, so
/// `["route": "/v1/x", "status": .int(200)]` reads naturally.
public enum LogValue: Sendable, Equatable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral
{
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Milliseconds of `duration`, to the microsecond.
    public static func milliseconds(_ duration: Duration) -> LogValue {
        let (seconds, attoseconds) = duration.components
        return .double((Double(seconds) * 1_000_000 + Double(attoseconds / 1_000_000_000_000)).rounded() / 1000)
    }

    /// The JSON form: a non-finite double (which JSON cannot write) is `null`.
    var json: String {
        switch self {
        case .string(let text): JSONString.escape(text)
        case .int(let value): String(value)
        case .double(let value): value.isFinite ? Self.decimal(value) : "null"
        case .bool(let value): value ? "true" : "false"
        }
    }

    /// The text form: as written, no quotes.
    var text: String {
        switch self {
        case .string(let text): text
        case .int(let value): String(value)
        case .double(let value): Self.decimal(value)
        case .bool(let value): value ? "true" : "false"
        }
    }

    /// Whole numbers without a fraction (`12`, not `12.0`), others in Swift's shortest exact form.
    private static func decimal(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
