import Foundation
import Testing
@testable import HTTP

@Suite struct ServerTests {
    @Test func healthzAnswersJSONAndKeepsTheConnection() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            for _ in 0..<3 {
                try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try await socket.readResponse()
                #expect(response.status == 200)
                #expect(response.bodyText == #"{"status":"ok"}"#)
                #expect(response.header("Content-Type") == "application/json")
                #expect(response.header("Date")?.hasSuffix("GMT") == true)
                #expect(response.header("Connection") == nil)
            }
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            // The slow one first: a server answering out of order would return "fast" first.
            try await socket.send(
                "GET /slow/100 HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nfastGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readResponse().bodyText == "slept 100")
            #expect(try await socket.readResponse().bodyText == "fast")
            #expect(try await socket.readResponse().status == 200)
        }
    }

    @Test func http10ClosesUnlessKeepAliveAsked() async throws {
        try await withTestServer { _, port in
            let plain = try RawSocket(port: port)
            try await plain.send("GET /healthz HTTP/1.0\r\n\r\n")
            let text = String(decoding: try await plain.readUntilClose(), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("Connection: close\r\n"))

            let kept = try RawSocket(port: port)
            try await kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await kept.readResponse().header("Connection") == "keep-alive")
            try await kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await kept.readResponse().status == 200)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.header("Connection") == "close")
            #expect(await socket.isClosedByPeer())
        }
    }

    @Test func chunkedRequestBodyIsDecoded() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            try await socket.send("7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.bodyText == "hello, world")
            #expect(response.header("X-Body-Length") == "12")
        }
    }

    @Test func streamedResponseIsChunked() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /stream/3 HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.header("Transfer-Encoding") == "chunked")
            #expect(response.bodyText == "part 0;part 1;part 2;")
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readResponse().status == 200)
        }
    }

    @Test func largeStreamedResponseArrivesWhole() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /stream/100000 HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.body.count == (0..<100000).reduce(0) { $0 + "part \($1);".utf8.count })
        }
    }

    @Test func expectContinueGetsAnInterimResponse() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            #expect(try await socket.readResponse().status == 100)
            try await socket.send("abc")
            #expect(try await socket.readResponse().bodyText == "abc")
        }
    }

    @Test func expectContinueOverTheLimitIsRefusedBeforeTheBody() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
            #expect(try await socket.readResponse().status == 413)
        }
    }

    @Test func handlerErrorIsAnOpaque500AndTheConnectionSurvives() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.status == 500)
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(!response.bodyText.contains("hunter2"))
            #expect(response.bodyText.contains("err_"))
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readResponse().status == 200)
        }
    }

    @Test func headRequestGetsHeadersWithoutBody() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await socket.readResponse(headRequest: true)
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "15")
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readResponse().bodyText == #"{"status":"ok"}"#)
        }
    }

    @Test func unknownRouteIs404AndWrongMethodIs405WithAllow() async throws {
        try await withTestServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readResponse().status == 404)
            try await socket.send("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.status == 405)
            #expect(response.header("Allow") == "GET, HEAD")
        }
    }
}

@Suite struct DualStackTests {
    @Test func wildcardListenerServesIPv4AndIPv6() async throws {
        try await withTestServer({ $0.host = "::" }) { _, port in
            let client = HTTPClient()
            defer { client.shutdown() }
            let v4 = try await client.get("http://127.0.0.1:\(port)/healthz")
            #expect(v4.status == .ok)
            // Where the host has IPv6 loopback, the same listener answers on it.
            let inet6 = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
            if inet6.contains("00000000000000000000000000000001") {
                let v6 = try await client.get("http://[::1]:\(port)/healthz")
                #expect(v6.status == .ok)
            }
        }
    }
}

@Suite struct ConnectionAbortTests {
    @Test func handlerThrowingConnectionAbortClosesWithoutAResponse() async throws {
        var router = makeTestRouter()
        router.get("/vanish") { _ in throw ConnectionAbort() }
        router.post("/vanish") { _ in throw ConnectionAbort() }
        try await withTestServer(router: router) { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /vanish HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readUntilClose().isEmpty)
            // The client sees it as a reset after sending: it may have reached the server.
            let client = HTTPClient()
            defer { client.shutdown() }
            await #expect {
                _ = try await client.execute(HTTPClientRequest(method: .post, url: "http://127.0.0.1:\(port)/vanish"))
            } throws: { error in
                let error = error as! HTTPClientError
                return error.mayHaveReachedServer
            }
        }
    }
}
