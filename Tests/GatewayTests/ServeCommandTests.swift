import Foundation
import ChildProcess
import HTTP
import Testing

@Suite struct ServeCommandTests {
    /// A real configuration pointing at a closed loopback port: enough to serve /healthz.
    static func environment() -> [String: String] {
        [
            "PORT": "0", "ROKT_API_TOKEN": "t", "ROKT_PARENT_ACCOUNT_ID": "p", "ROKT_BASE_URL": "http://127.0.0.1:9",
            "DATABASE_PATH": NSTemporaryDirectory() + "gateway-\(UUID().uuidString)/gateway.sqlite3", "LOG_FORMAT": "text",
            "SHUTDOWN_DRAIN_SECONDS": "0.3",
        ]
    }

    @Test func serveAnswersHealthzAndExitsZeroOnSIGTERM() async throws {
        let gateway = try GatewayProcess(environment: Self.environment())
        let port = try await gateway.waitForField("listening", "port")
        let client = HTTPClient()
        defer { client.shutdown() }
        let response = try await client.get("http://127.0.0.1:\(port)/healthz")
        #expect(response.status == .ok)
        #expect(response.bodyString == #"{"status":"ok"}"#)
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
        #expect(gateway.text.contains("shutting down"))
    }

    @Test func serveExitsZeroOnSIGINTToo() async throws {
        let gateway = try GatewayProcess(environment: Self.environment())
        _ = try await gateway.waitForField("listening", "port")
        gateway.signal(SIGINT)
        #expect(await gateway.waitForExit() == 0)
    }

    /// HTTP_EVENT_LOOPS sets how many loop threads the process runs; without it, one per CPU the
    /// process may use: under `taskset -c 0`, one, whatever the host has.
    @Test func eventLoopsAreAsConfiguredElseOnePerCPUThisProcessMayUse() async throws {
        var environment = Self.environment()
        environment["HTTP_EVENT_LOOPS"] = "3"
        let chosen = try GatewayProcess(environment: environment)
        #expect(try await chosen.waitForField("listening", "eventLoops") == "3")
        // A new thread names itself as it starts.
        #expect(await eventually(timeout: .seconds(5)) { Self.loopThreads(of: chosen) == ["http-loop-0", "http-loop-1", "http-loop-2"] })
        chosen.signal(SIGTERM)
        #expect(await chosen.waitForExit() == 0)

        let taskset = "/usr/bin/taskset"  // util-linux, in every Debian
        try #require(FileManager.default.isExecutableFile(atPath: taskset), "\(taskset) is needed to run the gateway on one CPU")
        let pinned = try GatewayProcess(environment: Self.environment(), launcher: [taskset, "-c", "0"])
        #expect(try await pinned.waitForField("listening", "eventLoops") == "1")
        #expect(await eventually(timeout: .seconds(5)) { Self.loopThreads(of: pinned) == ["http-loop-0"] })
        pinned.signal(SIGTERM)
        #expect(await pinned.waitForExit() == 0)
    }

    static func loopThreads(of gateway: GatewayProcess) -> [String] {
        gateway.threadNames.filter { $0.hasPrefix("http-loop-") }.sorted()
    }

    @Test func malformedPortIsAClearErrorAndNonZeroExit() async throws {
        let gateway = try GatewayProcess(environment: ["PORT": "eighty"])
        let status = await gateway.waitForExit()
        #expect(status != 0 && status != nil)
        #expect(gateway.text.contains("PORT"))
        #expect(gateway.text.contains("eighty"))
    }
}

@Suite struct SandboxModeTests {
    /// README's first command, as a newcomer runs it: no variable but a port and a scratch directory.
    @Test func serveSandboxAnswersAVerticalBlockAndAPause() async throws {
        let directory = NSTemporaryDirectory() + "gateway-sandbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gateway = try GatewayProcess(
            arguments: ["serve", "--sandbox"],
            environment: ["PORT": "0", "DATABASE_PATH": directory + "/g.sqlite3", "LOG_FORMAT": "text", "SHUTDOWN_DRAIN_SECONDS": "0.3"])
        let address = try await gateway.waitForLine(startingWith: "Gateway at ")
        let base = String(address.split(separator: " ").first ?? "")
        let key = try await gateway.waitForLine(startingWith: "API key (all scopes): ")
        let client = HTTPClient()
        defer { client.shutdown() }
        let headers: HTTPHeaders = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
        let block = try await client.execute(
            HTTPClientRequest(
                method: .post, url: base + "/v1/merchants/demo-merchant-2/controls/blocked-verticals",
                headers: headers, body: Array(#"{"partnerVerticalId":1504,"partnerSubVerticalId":1612}"#.utf8)))
        #expect(block.status == .ok)
        #expect(block.bodyString.contains(#""state":"succeeded""#))
        let pause = try await client.execute(HTTPClientRequest(method: .post, url: base + "/v1/merchants/demo-merchant-1/pause", headers: headers))
        #expect(pause.status == .ok)
        #expect(pause.bodyString.contains(#""status":"paused""#))
        gateway.signal(SIGTERM)
        #expect(await gateway.waitForExit() == 0)
    }
}
