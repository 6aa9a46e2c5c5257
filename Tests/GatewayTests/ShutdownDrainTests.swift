import Foundation
import HTTP
import Testing

/// SIGTERM drains (docs/operations.md, "Shutdown"): `/readyz` fails at once while requests are still
/// served, then the listener closes and a request already in flight is answered with `Connection: close`.
@Suite struct ShutdownDrainTests {
    @Test func sigtermFailsReadinessServesThroughTheDrainThenFinishesInFlightRequestsAndExitsZero() async throws {
        let directory = NSTemporaryDirectory() + "gateway-drain-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A drain long enough that a loaded machine still polls readiness inside it (3 s once went
        // unpolled); the listener's closing is observed, not timed.
        let gateway = try GatewayProcess(
            arguments: ["serve", "--sandbox"],
            environment: [
                "PORT": "0", "DATABASE_PATH": directory + "/g.sqlite3", "LOG_FORMAT": "text",
                "SHUTDOWN_DRAIN_SECONDS": "6", "SHUTDOWN_GRACE_SECONDS": "5",
            ])
        let port = try await gateway.waitForField("listening", "port")
        let key = try await gateway.waitForLine(startingWith: "API key (all scopes): ")
        let client = HTTPClient()
        defer { client.shutdown() }
        #expect(try await client.get("http://127.0.0.1:\(port)/readyz").status == .ok)

        // In flight from before the signal: the head is in, the body comes only once the listener has closed.
        let inFlight = try PlainConnection(port: Int(port)!)
        let body = #"{"reason":"drain"}"#
        try inFlight.send(
            "POST /v1/merchants/demo-merchant-1/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n")

        // Requests keep coming through the signal, each on a new connection as a load balancer's
        // health checks and new clients do, until the listener closes.
        let signalled = ContinuousClock.now
        gateway.signal(SIGTERM)
        var readiness: [String] = []
        var unansweredAfter: Duration?
        while true {
            // Refused, reset or closed unanswered: the listener has closed (a connection caught in
            // its backlog at that instant is reset, as with any server).
            let answer = try? await PlainConnection.exchange(port: Int(port)!, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            guard let answer, !answer.isEmpty else {
                unansweredAfter = ContinuousClock.now - signalled
                break
            }
            readiness.append(answer)
            if answer.hasPrefix("HTTP/1.1 503") {
                let liveness = try? await PlainConnection.exchange(port: Int(port)!, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                #expect(liveness.map { $0.isEmpty || $0.hasPrefix("HTTP/1.1 200") } ?? true, "liveness during the drain: \(liveness ?? "")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Every connection was answered until the listener closed, which was not before the drain
        // (6 s from the signal) had passed; readiness, once failed, stayed failed.
        #expect(readiness.allSatisfy { $0.hasPrefix("HTTP/1.1 200") || $0.hasPrefix("HTTP/1.1 503") }, "\(readiness)")
        #expect(unansweredAfter.map { $0 >= .seconds(6) } == true, "unanswered \(String(describing: unansweredAfter)) after SIGTERM")
        let firstFailed = try #require(readiness.firstIndex { $0.hasPrefix("HTTP/1.1 503") })
        #expect(readiness[firstFailed...].allSatisfy { $0.hasPrefix("HTTP/1.1 503") && $0.contains(#""code":"not_ready""#) })

        try inFlight.send(body)
        let answer = try await inFlight.receiveAll()
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"))
        #expect(await gateway.waitForExit() == 0)
    }
}
