import HTTP

/// Liveness: answers as long as the process serves HTTP at all.
enum HealthRoutes {
    static func register(on router: inout Router) {
        router.get("/healthz") { _ in
            HTTPResponse(headers: ["Content-Type": "application/json"], body: #"{"status":"ok"}"#)
        }
    }
}
