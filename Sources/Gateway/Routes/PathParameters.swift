import HTTP
import Rokt

/// The path parameters that become segments of Rokt paths (account and layout ids), checked
/// in one place: an id outside `RoktPath.safeIdentifier` (such as `..`, which would walk up
/// Rokt's path) is a 400 naming the parameter, before the store or Rokt are consulted (reads
/// check it before the key too; writes after it, in `WritePipeline`'s order).
enum PathParameter {
    /// `{accountId}` of every `/v1/merchants/{accountId}/…` route.
    static func accountId(_ request: HTTPRequest) throws(Problem) -> String { try identifier(request, "accountId") }

    /// `{layoutId}` of the theme route.
    static func layoutId(_ request: HTTPRequest) throws(Problem) -> String { try identifier(request, "layoutId") }

    static func identifier(_ request: HTTPRequest, _ name: String) throws(Problem) -> String {
        try identifier(request.pathParameters[name] ?? "", name)
    }

    static func identifier(_ value: String, _ name: String) throws(Problem) -> String {
        guard RoktPath.isSafeIdentifier(value) else { throw Problem.validation(field: name, RoktPath.safeIdentifierRule) }
        return value
    }
}
