import Foundation
import HTTP
import Testing
@testable import Gateway

/// Callers choose methods and paths; they must not choose the metrics' label values.
@Suite struct MetricsLabelTests {
    /// The series of an exposition, values dropped: what a scrape's size grows with.
    static func series(_ exposition: String) -> Set<String> {
        Set(
            exposition.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
                line.lastIndex(of: " ").map { String(line[..<$0]) } ?? String(line)
            })
    }

    static func madeUpMethod(_ i: Int) -> HTTPMethod {
        HTTPMethod("X\(i)" + String(repeating: "M", count: i % 300))
    }

    @Test func madeUpMethodsAndPathsLeaveTheExpositionUnchanged() async throws {
        try await withGateway { gateway in
            // One request of each label kind: a made-up method on a route, one on no route, a made-up path.
            _ = try await gateway.call(Self.madeUpMethod(0), "/healthz", anonymous: true)
            _ = try await gateway.call(Self.madeUpMethod(1), "/nowhere", anonymous: true)
            _ = try await gateway.call(.get, "/nowhere/at/all", anonymous: true)
            _ = try await gateway.call(.get, "/metrics", anonymous: true)
            let before = try await gateway.call(.get, "/metrics", anonymous: true).text

            for i in 2..<1_002 {
                let path = i.isMultiple(of: 2) ? "/healthz" : "/made-up/\(i)/\(String(repeating: "p", count: i % 500))"
                let answer = try await gateway.call(Self.madeUpMethod(i), path, anonymous: true)
                #expect(answer.status == 405 || answer.status == 404)
            }
            let after = try await gateway.call(.get, "/metrics", anonymous: true).text

            let newSeries = Self.series(after).subtracting(Self.series(before))
            #expect(newSeries.isEmpty, "\(newSeries.count) new series, e.g. \(newSeries.first.map { String($0.prefix(120)) } ?? "")")
            // Only counter values moved: a few digits per series, never a new line.
            #expect(after.split(separator: "\n").count == before.split(separator: "\n").count)
            #expect(after.utf8.count - before.utf8.count < 400, "exposition grew from \(before.utf8.count) to \(after.utf8.count) bytes")
            #expect(after.contains(#"rokt_gateway_http_requests_total{method="other",route="unmatched",status_class="4xx"}"#), "no `other` series")
            #expect(!after.contains("X1"), "a made-up method became a label")
        }
    }

    @Test func methodLabelKeepsStandardMethodsOnly() {
        for name in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"] {
            #expect(GatewayMetrics.methodLabel(HTTPMethod(name)) == name)
        }
        for name in ["get", "PROPFIND", "BREW", String(repeating: "A", count: 12_000)] {
            #expect(GatewayMetrics.methodLabel(HTTPMethod(name)) == "other")
        }
    }

    @Test func accessLogCutsALongMethod() async throws {
        let logs = LogCapture()
        try await withGateway(logSink: logs.sink) { gateway in
            let long = HTTPMethod(String(repeating: "Q", count: 12_000))
            let status = try await gateway.call(long, "/healthz", anonymous: true).status
            #expect(status == 405)
        }
        let request = logs.all.filter { $0.contains(#""request""#) && $0.contains("QQQ") }
        #expect(request.count == 1)
        #expect(request.allSatisfy { $0.utf8.count < 1_000 })
    }
}
