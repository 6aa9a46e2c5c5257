import Foundation
import HTTP
import Testing
@testable import Gateway

/// `rokt-gateway healthcheck`, the container image's HEALTHCHECK (deploy/Containerfile).
@Suite struct HealthcheckCommandTests {
    /// Ready while serving; not ready, naming why, once SIGTERM starts the drain; failing once the
    /// port is closed.
    @Test func readyWhileServingNotReadyDuringTheDrainAndFailingOnceTheListenerIsGone() async throws {
        // A drain far longer than the test: the gateway is killed once the drain has been seen.
        let bed = try ProcessTestBed("healthcheck", extra: ["SHUTDOWN_DRAIN_SECONDS": "120"])
        let gateway = try GatewayProcess(environment: bed.environment)
        let port = try await gateway.waitForField("listening", "port")
        var environment = bed.environment
        environment["PORT"] = port
        let url = "http://127.0.0.1:\(port)/readyz"

        let ready = try await OperatorCommandsTests.run(["healthcheck"], environment)
        #expect(ready.status == 0, "\(ready.text)")
        #expect(ready.text == "\(url): ready\n")

        gateway.signal(SIGTERM)
        var draining = try await OperatorCommandsTests.run(["healthcheck"], environment)
        while draining.status == 0 {  // until the signal is handled
            draining = try await OperatorCommandsTests.run(["healthcheck"], environment)
        }
        #expect(draining.status == 1)
        #expect(draining.text == "\(url): not ready (HTTP 503): server is shutting down\n")

        gateway.signal(SIGKILL)
        _ = await gateway.waitForExit()
        // Hold the freed port (bound, not listening) so that no other test's gateway takes it
        // meanwhile: one did once, and answered "ready". Taken already: nothing to check on it.
        guard let held = Self.hold(port: UInt16(port) ?? 0) else { return }
        defer { close(held) }
        let closed = try await OperatorCommandsTests.run(["healthcheck"], environment)
        #expect(closed.status == 1)
        #expect(closed.text.hasPrefix("\(url): connectFailed"), "\(closed.text)")
    }

    /// A socket bound to 127.0.0.1:`port` without listening (connections to it are refused).
    private static func hold(port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    @Test func anOptionOrPortZeroIsAUsageErrorBeforeAnyRequest() async {
        let option = await OperatorCommands.healthcheck(["healthcheck", "--port"], environment: ["PORT": "8080"])
        #expect(option == .init(lines: ["healthcheck: unknown option --port"], status: 2))
        let zero = await OperatorCommands.healthcheck(["healthcheck"], environment: ["PORT": "0"])
        #expect(zero.status == 2)
        #expect(zero.lines.first?.contains("PORT=0") == true)
        let malformed = await OperatorCommands.healthcheck(["healthcheck"], environment: ["PORT": "http"])
        #expect(malformed.status == 2)
        #expect(malformed.lines.first?.contains("PORT must be a port number") == true)
    }

    @Test func onlyA200ReadyDocumentIsReady() {
        let url = "http://127.0.0.1:8080/readyz"
        #expect(OperatorCommands.readiness(url: url, status: 200, body: Array(#"{"status":"ready"}"#.utf8)).status == 0)
        // Something else answering on the port (a 200 that is not our document) is not ready.
        #expect(OperatorCommands.readiness(url: url, status: 200, body: Array("<html>ok</html>".utf8)).status == 1)
        #expect(OperatorCommands.readiness(url: url, status: 200, body: Array(#"{"status":"ok"}"#.utf8)).status == 1)
        let problem = Array(#"{"status":503,"code":"not_ready","detail":"database did not answer a read"}"#.utf8)
        #expect(
            OperatorCommands.readiness(url: url, status: 503, body: problem)
                == .init(lines: ["\(url): not ready (HTTP 503): database did not answer a read"], status: 1))
        #expect(OperatorCommands.readiness(url: url, status: 404, body: []) == .init(lines: ["\(url): not ready (HTTP 404)"], status: 1))
    }
}
