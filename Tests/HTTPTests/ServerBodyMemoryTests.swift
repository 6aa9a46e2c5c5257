#if canImport(Glibc)
    import Glibc
#endif
import ChildProcess
import Foundation
import Testing
@testable import HTTP

/// What the server holds before a handler runs: bodies refused from their head, and a ceiling
/// on the body bytes all connections buffer together.
@Suite struct ServerBodyMemoryTests {
    /// `/echo` and friends behind a head filter that wants `Authorization: Bearer good`.
    func withGuardedServer(
        _ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
        _ body: (HTTPServer, Int) async throws -> Void
    ) async throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.shutdownGracePeriod = .seconds(2)
        configure(&configuration)
        let group = try EventLoopGroup(loopCount: 2)
        let router = makeTestRouter()
        let server = try HTTPServer(
            configuration: configuration, group: group, bodyLimit: { router.bodyLimit(method: $0, path: $1) },
            headFilter: { head, _ in
                head.headers["Authorization"] == "Bearer good" ? .proceed() : .refuse(.problem(.unauthorized, detail: "no key"))
            }, handler: { try await router.handle($0) })
        let port = try server.start()
        do {
            try await body(server, port)
        } catch {
            await server.shutdown()
            group.shutdown()
            throw error
        }
        await server.shutdown()
        group.shutdown()
    }

    @Test func aRefusedHeadIsAnsweredWithoutItsBodyThenTheConnectionCloses() async throws {
        try await withGuardedServer { server, port in
            let socket = try RawSocket(port: port)
            // 1 MiB announced, not one byte of it sent: the answer comes from the head alone.
            try await socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad\r\nContent-Length: 1048576\r\n\r\n")
            let response = try await socket.readResponse()
            #expect(response.status == 401)
            #expect(response.bodyText.contains("no key"))
            #expect(response.header("Connection") == "close")
            #expect(await socket.isClosedByPeer())
            #expect(server.bodyMemoryInUse == 0)
        }
    }

    @Test func anAcceptedHeadReadsTheBodyAndRequestsWithoutABodySkipTheFilter() async throws {
        try await withGuardedServer { _, port in
            let socket = try RawSocket(port: port)
            try await socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 5\r\n\r\nhello")
            #expect(try await socket.readResponse().bodyText == "hello")
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await socket.readResponse().status == 200)
        }
    }

    /// What the head filter learnt travels with its request to the handler, and only with it.
    @Test func theFiltersFindingReachesTheHandlerWithItsRequestOnly() async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let server = try HTTPServer(
            configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0), group: group,
            headFilter: { head, _ in .proceed(finding: "screened \(head.path)") },
            handler: { request in HTTPResponse(body: Array(((request.screening as? String) ?? "none").utf8)) })
        let port = try server.start()
        let socket = try RawSocket(port: port)
        try await socket.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        #expect(try await socket.readResponse().bodyText == "screened /a")
        // No body, no filter: nothing left over from the request before.
        try await socket.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await socket.readResponse().bodyText == "none")
        await server.shutdown()
        group.shutdown()
    }

    @Test func beyondTheBudgetAnUploadGets503WhileTheFirstCompletes() async throws {
        try await withGuardedServer({ $0.maxBodyMemoryBytes = 64 * 1024 }) { server, port in
            let size = 40_000
            let first = try RawSocket(port: port)
            try await first.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: \(size)\r\n\r\n")
            try await first.send([UInt8](repeating: 0x61, count: 1000))
            #expect(await eventually { server.bodyMemoryInUse == size })

            let second = try RawSocket(port: port)
            try await second.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: \(size)\r\n\r\n")
            let refused = try await second.readResponse()
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            #expect(await second.isClosedByPeer())

            try await first.send([UInt8](repeating: 0x61, count: size - 1000))
            let answered = try await first.readResponse()
            #expect(answered.status == 200 && answered.body.count == size)
            #expect(await eventually { server.bodyMemoryInUse == 0 })

            // The budget is whole again.
            let third = try RawSocket(port: port)
            try await third.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: \(size)\r\n\r\n")
            try await third.send([UInt8](repeating: 0x62, count: size))
            #expect(try await third.readResponse().body.count == size)
        }
    }

    @Test func chunkedBodiesReserveAsTheyArrive() async throws {
        try await withGuardedServer({ $0.maxBodyMemoryBytes = 64 * 1024 }) { server, port in
            let first = try RawSocket(port: port)
            try await first.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 50000\r\n\r\n")
            #expect(await eventually { server.bodyMemoryInUse == 50_000 })
            let chunked = try RawSocket(port: port)
            let piece = String(repeating: "z", count: 8_000)
            try await chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n\r\n")
            try await chunked.send("1f40\r\n\(piece)\r\n")
            #expect(await eventually { server.bodyMemoryInUse == 58_000 })
            try await chunked.send("1f40\r\n\(piece)\r\n")
            let refused = try await chunked.readResponse()
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            // The refused upload gave back what it held; the first still holds its reservation.
            #expect(await eventually { server.bodyMemoryInUse == 50_000 })
            _ = Glibc.shutdown(first.fd, Int32(SHUT_RDWR))  // the uploader goes away mid-body
            #expect(await eventually { server.bodyMemoryInUse == 0 })
        }
    }
}

@Suite struct BodyMemoryLedgerTests {
    @Test func reservesUpToTheCapacityExactly() {
        var ledger = BodyMemoryLedger(capacity: 100)
        #expect(ledger.reserve(60) == true)
        #expect(ledger.reserve(41) == false)
        #expect(ledger.reserved == 60)
        #expect(ledger.reserve(40) == true)
        #expect(ledger.reserve(1) == false)
        ledger.release(60)
        #expect(ledger.reserve(60) == true)
        #expect(ledger.reserved == 100)
    }

    @Test func aZeroLengthBodyAlwaysFits() {
        var ledger = BodyMemoryLedger(capacity: 0)
        #expect(ledger.reserve(0) == true)
        #expect(ledger.reserve(1) == false)
    }
}
