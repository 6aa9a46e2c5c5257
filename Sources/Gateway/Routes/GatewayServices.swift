import HTTP
import Rokt

/// What routes need, built once at start: the engine for operations, and the store only
/// through the narrow protocols a route family uses.
public struct GatewayServices: Sendable {
    public let configuration: GatewayConfiguration
    public let engine: OperationEngine
    /// Caller-side Idempotency-Key records.
    let inboundRequests: any InboundRequestStore
    /// Webhook endpoints and their delivery log (the `/v1/webhook-…` routes).
    let webhookAdmin: any WebhookStore
    /// Whether the store answers, and its gauges (`/readyz`, `/metrics`).
    let storeHealth: any StoreHealth
    public let rokt: RoktClient
    public let keyRing: KeyRing
    public let logger: Logger
    public let clock: any WallClock
    public let metrics: GatewayMetrics
    /// 64 random bits per call (the engine's source): new trace and span ids.
    let random: @Sendable () -> UInt64
    let inFlight = InboundIdempotency.InFlight()
    /// Whether shutdown has begun (`/readyz`).
    public let drain = DrainState()
}

/// The caller of a request, once authenticated.
struct Caller: Sendable {
    let key: ApiKey
}

/// Authentication and authorisation, decided from memory before the store or Rokt is touched.
enum Authorization {
    /// The key behind `Authorization: Bearer …`, with `scope`, allowed on `merchant` when given.
    static func authorize(_ request: HTTPRequest, scope: Scope, merchant: String?, keyRing: KeyRing) throws(Problem) -> Caller {
        guard let header = request.headers["Authorization"],
            header.count > 7, header.prefix(7).asciiCaseInsensitiveEquals("Bearer "),
            let key = keyRing.authenticate(String(header.dropFirst(7)).trimmingHTTPWhitespace())
        else { throw Problem.unauthenticated }
        RequestNotes.noteApiKey(key.id)  // also when refused below: the access log names the key
        guard key.allows(scope) else {
            throw Problem.forbidden("This API key lacks the `\(scope.rawValue)` scope.")
        }
        if let merchant, !key.allows(merchant: merchant) {
            throw Problem.forbidden("This API key may not act on merchant \(merchant).")
        }
        return Caller(key: key)
    }
}
