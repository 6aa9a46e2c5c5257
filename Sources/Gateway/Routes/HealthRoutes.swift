import HTTP
import JSON

/// Probes and self-description, all without authentication (a load balancer, Prometheus and a
/// client generator call them; none reveals a secret or a merchant's data).
struct HealthRoutes: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        // Liveness: answers as long as the process serves HTTP at all.
        router.get("/healthz") { _ in
            HTTPResponse(headers: ["Content-Type": "application/json"], body: #"{"status":"ok"}"#)
        }
        // Readiness: not shutting down, the store answers a read and the engine is scheduling; else take
        // us out of rotation.
        router.get("/readyz") { _ in
            var failing: [Problem.FieldError] = []
            if services.drain.isDraining { failing.append(.init(field: "server", message: "is shutting down")) }
            if !services.engine.isRunning { failing.append(.init(field: "engine", message: "is not running")) }
            do { try await services.storeHealth.ping() } catch {
                failing.append(.init(field: "database", message: "did not answer a read"))
            }
            guard failing.isEmpty else {
                throw Problem(
                    status: 503, code: .notReady, detail: failing.map { "\($0.field) \($0.message)" }.joined(separator: "; "),
                    errors: failing)
            }
            var body: [String: JSONValue] = ["status": .string("ready")]
            // A circuit open toward Rokt (or Rokt's pause) degrades us but leaves us ready: writes
            // are still accepted and held, and another replica would find Rokt just as failing.
            let upstream = services.rokt.protection.snapshot
            if upstream.circuit != "closed" || upstream.holdRemaining != nil {
                body["degraded"] = .bool(true)
                body["upstream"] = .string(upstream.circuit == "closed" ? "paused" : upstream.circuit)
                if let hold = upstream.holdRemaining { body["upstreamRetryAfterSeconds"] = .integer(Int((hold.milliseconds + 999) / 1000)) }
            }
            // So are tokens that cannot be verified (the issuer's key set not fetched yet): API keys still work.
            if let reason = services.tokens?.unavailableReason {
                body["degraded"] = .bool(true)
                body["tokens"] = .string(reason)
            }
            return HTTPResponse(headers: ["Content-Type": "application/json"], body: JSONValue.object(body).serializedBytes)
        }
        if services.configuration.metricsPort == nil { MetricsRoute(services: services).register(on: &router) }
        router.get("/openapi.yaml") { _ in
            HTTPResponse(headers: ["Content-Type": "application/yaml"], body: OpenAPIDocument.yaml)
        }
    }
}
