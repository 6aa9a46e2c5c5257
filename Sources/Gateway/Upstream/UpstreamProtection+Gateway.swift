import Rokt

extension UpstreamProtection {
    /// The gateway's protection toward Rokt: its events counted in `metrics`, and every change
    /// of the circuit's state and every pause logged (never the token: events carry none). Its
    /// clock is the engine's monotonic one, so tests move both together.
    static func forGateway(
        _ settings: UpstreamProtectionSettings, now: @escaping @Sendable () -> ContinuousClock.Instant, metrics: GatewayMetrics, logger: Logger
    ) -> UpstreamProtection {
        UpstreamProtection(
            settings: settings, now: now,
            observe: { event in
                metrics.recordUpstreamProtection(event)
                switch event {
                case .circuitChanged(let from, let to):
                    if to == "open" {
                        logger.warn(
                            "Rokt circuit opened: queued operations are held, reads answer 503 upstream_unavailable",
                            ["from": from, "to": to, "openMs": String(settings.breaker.openDuration.milliseconds)])
                    } else {
                        logger.info("Rokt circuit \(to == "closed" ? "closed" : "half-open")", ["from": from, "to": to])
                    }
                case .paused(let length):
                    logger.warn("Rokt asked to slow down (429 Retry-After): every call paused", ["pauseMs": String(length.milliseconds)])
                case .held, .waited:
                    break
                }
            })
    }
}
