/// A connection string libpq would refuse too, or one asking for what this client cannot do.
/// Messages name the part that is wrong; none shows the password.
public enum ConnectionStringError: Error, Equatable, Sendable, CustomStringConvertible {
    case syntax(String)
    /// A `%` escape that is not two hex digits, decodes to `%00`, or to bytes that are not UTF-8.
    case badPercentEncoding(part: String)
    case unknownParameter(String)
    /// A libpq parameter this client does not implement.
    case unsupportedParameter(String)
    case unsupportedValue(parameter: String, value: String)
    case invalidValue(parameter: String, value: String, expected: String)
    case invalidPort(String)
    case mismatchedLists(String)
    case passwordGivenTwice
    case missingUser

    public var description: String {
        switch self {
        case .syntax(let detail): "connection string: \(detail)"
        case .badPercentEncoding(let part): "connection string: bad percent-encoding in the \(part)"
        case .unknownParameter(let name): "connection string: unknown parameter \"\(name)\""
        case .unsupportedParameter(let name): "connection string: parameter \"\(name)\" is not supported by this client"
        case .unsupportedValue(let parameter, let value): "connection string: \(parameter)=\(value) is not supported by this client"
        case .invalidValue(let parameter, let value, let expected): "connection string: invalid \(parameter) \"\(value)\" (expected \(expected))"
        case .invalidPort(let port): "connection string: invalid port \"\(port)\" (expected 1-65535)"
        case .mismatchedLists(let detail): "connection string: \(detail)"
        case .passwordGivenTwice: "connection string: a password is given both in the string and separately; give only one"
        case .missingUser: "connection string: no user given"
        }
    }
}
