import HTTP

/// `GET /metrics`, unauthenticated like the probes (it reveals no secret nor a merchant's data):
/// on the public port, or alone on its own listener when METRICS_PORT is set, so the public
/// port (behind the load balancer) does not expose it.
struct MetricsRoute: Sendable {
    let services: GatewayServices

    func register(on router: inout Router) {
        router.get("/metrics") { [services] _ in
            let gauges = try? await services.storeHealth.gauges()
            let upstream = UpstreamGauges(protection: services.rokt.protection.snapshot, retryBudgetExhausted: services.engine.retryBudgetExhausted)
            return HTTPResponse(
                headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: services.metrics.render(
                    gauges: gauges, upstream: upstream, callerLimits: services.callerLimits.statistics, engine: services.engine.gauges))
        }
    }

    /// The METRICS_PORT listener: the public server's host and limits, `/metrics` only (404 for anything else).
    static func server(services: GatewayServices, port: Int, group: EventLoopGroup) throws -> HTTPServer {
        var router = Router()
        let logger = services.logger
        router.errorReporter = { error, errorId, _ in
            logger.error("metrics request failed", ["errorId": errorId, "error": String(describing: type(of: error))])
        }
        MetricsRoute(services: services).register(on: &router)
        var configuration = services.configuration.server
        configuration.port = port
        return try HTTPServer(configuration: configuration, group: group) { [router] request in try await router.handle(request) }
    }
}
