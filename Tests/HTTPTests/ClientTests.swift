import Foundation
import Synchronization
import Testing
@testable import HTTP

@Suite struct ClientTests {
    /// The test router plus a route that tells which client connection (peer address) asked.
    static func routerWithPeer() -> Router {
        var router = makeTestRouter()
        router.get("/peer") { request in HTTPResponse(body: request.remoteAddress ?? "?") }
        return router
    }

    @Test func getReturnsStatusHeadersAndBody() async throws {
        try await withTestServer { _, port in
            let client = HTTPClient()
            defer { client.shutdown() }
            let response = try await client.get("http://127.0.0.1:\(port)/healthz")
            #expect(response.status == .ok)
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.bodyString == #"{"status":"ok"}"#)
        }
    }

    @Test func postSendsTheBody() async throws {
        try await withTestServer { _, port in
            let client = HTTPClient()
            defer { client.shutdown() }
            let body = Array(repeating: UInt8(ascii: "x"), count: 300_000)
            let response = try await client.execute(HTTPClientRequest(method: .post, url: "http://127.0.0.1:\(port)/echo", body: body))
            #expect(response.body == body)
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await withTestServer(router: Self.routerWithPeer()) { server, port in
            let client = HTTPClient()
            defer { client.shutdown() }
            var peers = Set<String>()
            for _ in 0..<5 { peers.insert(try await client.get("http://127.0.0.1:\(port)/peer").bodyString) }
            #expect(peers.count == 1)
            #expect(server.connectionCount == 1)
        }
    }

    @Test func concurrentRequestsStayWithinThePerHostMaximum() async throws {
        try await withTestServer(router: Self.routerWithPeer()) { server, port in
            var configuration = HTTPClient.Configuration()
            configuration.maxConnectionsPerHost = 2
            let client = HTTPClient(configuration: configuration)
            defer { client.shutdown() }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 { group.addTask { try await client.get("http://127.0.0.1:\(port)/slow/30").status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 12))
            var peers = Set<String>()
            for _ in 0..<4 { peers.insert(try await client.get("http://127.0.0.1:\(port)/peer").bodyString) }
            #expect(peers.count <= 2)
            #expect(server.connectionCount <= 2)
        }
    }

    @Test func waitingForAFullPoolTimesOutWithoutSending() async throws {
        try await withTestServer { server, port in
            var configuration = HTTPClient.Configuration()
            configuration.maxConnectionsPerHost = 1
            let client = HTTPClient(configuration: configuration)
            defer { client.shutdown() }
            let busy = Task { try await client.get("http://127.0.0.1:\(port)/slow/2000") }
            // The busy request holds the one connection once the server has it (a fixed sleep was
            // too short on a loaded machine).
            for _ in 0..<1000 where server.connectionCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
            do {
                _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .milliseconds(100))
                Issue.record("expected a pool timeout")
            } catch let error as HTTPClientError {
                #expect(error.kind == .poolTimeout)
                #expect(!error.mayHaveReachedServer)
            }
            #expect(try await busy.value.status == .ok)
        }
    }

    @Test func chunkedResponseIsDecoded() async throws {
        try await withTestServer { _, port in
            let client = HTTPClient()
            defer { client.shutdown() }
            let response = try await client.get("http://127.0.0.1:\(port)/stream/3")
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            #expect(response.bodyString == "part 0;part 1;part 2;")
        }
    }

    @Test func closeDelimitedResponseIsReadToTheEnd() async throws {
        let listener = try RawListener { fd, _ in
            _ = RawListener.readHead(fd)
            RawListener.write(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the very end")
        }
        defer { listener.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }
        let response = try await client.get("http://127.0.0.1:\(listener.port)/")
        #expect(response.bodyString == "until the very end")
    }

    @Test func refusedConnectionHasNotReachedTheServer() async throws {
        let listener = try RawListener { _, _ in }
        let port = listener.port
        listener.stop()
        let client = HTTPClient()
        defer { client.shutdown() }
        await #expect {
            _ = try await client.get("http://127.0.0.1:\(port)/")
        } throws: { error in
            let error = error as! HTTPClientError
            return error.kind == .connectFailed && !error.mayHaveReachedServer
        }
    }

    @Test func timeoutAfterSendingMayHaveReachedTheServer() async throws {
        try await withTestServer { _, port in
            let client = HTTPClient()
            defer { client.shutdown() }
            do {
                _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/slow/2000"), timeout: .milliseconds(200))
                Issue.record("expected a timeout")
            } catch let error as HTTPClientError {
                #expect(error.kind == .timedOut)
                #expect(error.mayHaveReachedServer)
            }
        }
    }

    @Test func connectionDroppedAfterTheRequestMayHaveReachedTheServer() async throws {
        let listener = try RawListener { fd, _ in _ = RawListener.readHead(fd) }  // reads, then closes without answering
        defer { listener.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }
        do {
            _ = try await client.execute(HTTPClientRequest(method: .post, url: "http://127.0.0.1:\(listener.port)/", body: Array("x".utf8)))
            Issue.record("expected a reset")
        } catch {
            #expect(error.kind == .connectionReset)
            #expect(error.mayHaveReachedServer)
        }
        #expect(listener.connections == 1)  // a POST without Idempotency-Key is never re-sent
    }

    @Test func staleKeepAliveConnectionIsRetriedOnceForIdempotentRequests() async throws {
        // Every connection answers one request with keep-alive, then the server closes it while idle.
        let listener = try RawListener { fd, index in
            _ = RawListener.readHead(fd)
            RawListener.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\(index)")
            usleep(50_000)
        }
        defer { listener.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }
        #expect(try await client.get("http://127.0.0.1:\(listener.port)/").bodyString == "1")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await client.get("http://127.0.0.1:\(listener.port)/").bodyString == "2")
    }

    @Test func oversizedResponseIsRefused() async throws {
        try await withTestServer { _, port in
            var configuration = HTTPClient.Configuration()
            configuration.maxResponseBodyBytes = 1000
            let client = HTTPClient(configuration: configuration)
            defer { client.shutdown() }
            let body = Array(repeating: UInt8(ascii: "y"), count: 5000)
            await #expect {
                _ = try await client.execute(HTTPClientRequest(method: .post, url: "http://127.0.0.1:\(port)/echo", body: body))
            } throws: { ($0 as! HTTPClientError).kind == .responseTooLarge }
        }
    }

    @Test(arguments: ["ftp://x/", "http://", "http://user:pw@host/", "http://host:99999/", "not a url"])
    func invalidURLIsRefusedBeforeAnyIO(url: String) async throws {
        let client = HTTPClient()
        defer { client.shutdown() }
        await #expect {
            _ = try await client.get(url)
        } throws: { ($0 as! HTTPClientError).kind == .invalidURL }
    }

    @Test func urlParsingKeepsTargetHostAndPort() {
        let url = ClientURL("https://Accounts.Rokt.com/v1/partnership/accounts?parent_account_id=p#frag")
        #expect(url?.host == "accounts.rokt.com")
        #expect(url?.port == 443)
        #expect(url?.target == "/v1/partnership/accounts?parent_account_id=p")
        #expect(url?.hostHeader == "accounts.rokt.com")
        #expect(ClientURL("http://[::1]:8080")?.hostHeader == "[::1]:8080")
        #expect(ClientURL("http://[::1]:8080")?.target == "/")
    }
}

@Suite struct ClientTLSTests {
    func withTLSServer(host: String = "127.0.0.1", _ body: (Int, TestCertificates) async throws -> Void) async throws {
        let certificates = try await TestCertificates.shared()
        try await withTestServer({
            $0.host = host
            $0.tls = .server(certificateChainFile: certificates.serverCertFile, privateKeyFile: certificates.serverKeyFile)
        }) { _, port in try await body(port, certificates) }
    }

    @Test func trustedCertificateAndMatchingNameSucceed() async throws {
        try await withTLSServer { port, certificates in
            let client = HTTPClient(configuration: .with(tls: .client(trustSystemRoots: false, additionalCAFile: certificates.caFile)))
            defer { client.shutdown() }
            for _ in 0..<3 {
                let response = try await client.get("https://localhost:\(port)/healthz")
                #expect(response.bodyString == #"{"status":"ok"}"#)
            }
            let big = Array(repeating: UInt8(ascii: "t"), count: 200_000)
            let echoed = try await client.execute(HTTPClientRequest(method: .post, url: "https://127.0.0.1:\(port)/echo", body: big))
            #expect(echoed.body == big)
        }
    }

    @Test func wrongHostnameIsATLSError() async throws {
        try await withTLSServer(host: "0.0.0.0") { port, certificates in
            let client = HTTPClient(configuration: .with(tls: .client(trustSystemRoots: false, additionalCAFile: certificates.caFile)))
            defer { client.shutdown() }
            // 127.0.0.2 reaches the same server, but the certificate names only localhost and 127.0.0.1.
            await #expect {
                _ = try await client.get("https://127.0.0.2:\(port)/healthz")
            } throws: { error in
                let error = error as! HTTPClientError
                return error.kind == .tlsFailed && !error.mayHaveReachedServer && error.detail.contains("mismatch")
            }
        }
    }

    @Test func untrustedCAIsATLSError() async throws {
        try await withTLSServer { port, certificates in
            let client = HTTPClient(configuration: .with(tls: .client(trustSystemRoots: false, additionalCAFile: certificates.otherCAFile)))
            defer { client.shutdown() }
            await #expect {
                _ = try await client.get("https://localhost:\(port)/healthz")
            } throws: { error in
                let error = error as! HTTPClientError
                return error.kind == .tlsFailed && error.detail.contains("certificate verif")
            }
        }
    }

    @Test func plainHTTPToATLSListenerFailsCleanly() async throws {
        try await withTLSServer { port, _ in
            let client = HTTPClient()
            defer { client.shutdown() }
            await #expect(throws: HTTPClientError.self) {
                _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(3))
            }
        }
    }
}

extension HTTPClient.Configuration {
    static func with(tls: TLSConfiguration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.tls = tls
        return configuration
    }
}
