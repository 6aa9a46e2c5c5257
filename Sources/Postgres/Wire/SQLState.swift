/// A SQLSTATE code: five characters, the first two its class (PostgreSQL docs, Appendix A
/// "PostgreSQL Error Codes"). Callers branch on these, never on message text, which is
/// translated by `lc_messages`.
public struct SQLState: Hashable, Sendable, CustomStringConvertible {
    public let code: String

    public init(_ code: String) { self.code = code }

    /// The class: the first two characters ("23" integrity constraint violation…).
    public var classCode: String { String(code.prefix(2)) }

    // Class 23 — Integrity Constraint Violation
    public static let uniqueViolation = SQLState("23505")
    public static let foreignKeyViolation = SQLState("23503")
    // Class 40 — Transaction Rollback
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    // Class 57 — Operator Intervention
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let cannotConnectNow = SQLState("57P03")
    // Class 55 — Object Not In Prerequisite State
    public static let lockNotAvailable = SQLState("55P03")
    // Class 42 — Syntax Error or Access Rule Violation
    public static let undefinedTable = SQLState("42P01")
    public static let duplicateObject = SQLState("42710")
    // Class 28 — Invalid Authorization Specification
    public static let invalidAuthorizationSpecification = SQLState("28000")
    public static let invalidPassword = SQLState("28P01")
    /// Used when an ErrorResponse carries no 'C' field (the field is always present in
    /// protocol 3.0, so this marks a broken server, not a condition to branch on).
    public static let internalError = SQLState("XX000")

    /// The transaction failed only because of concurrency: running it again may succeed.
    public var isRetryable: Bool { self == .serializationFailure || self == .deadlockDetected }

    /// Class 08, Connection Exception: the session is unusable.
    public var isConnectionException: Bool { classCode == "08" }

    /// The condition name of the codes named above (Appendix A), for logs.
    public var name: String? { Self.names[code] }

    public var description: String { name.map { "\(code) \($0)" } ?? code }

    private static let names: [String: String] = [
        "23505": "unique_violation", "23503": "foreign_key_violation", "40001": "serialization_failure", "40P01": "deadlock_detected",
        "57014": "query_canceled", "57P01": "admin_shutdown", "57P03": "cannot_connect_now", "55P03": "lock_not_available",
        "42P01": "undefined_table", "42710": "duplicate_object", "28000": "invalid_authorization_specification", "28P01": "invalid_password",
        "XX000": "internal_error",
    ]
}
