import Foundation
@testable import HTTP

/// Routes every server test uses: an echo, a slow handler, a streamed body, a thrower.
func makeTestRouter() -> Router {
    var router = Router()
    router.get("/healthz") { _ in
        HTTPResponse(headers: ["Content-Type": "application/json"], body: #"{"status":"ok"}"#)
    }
    router.post("/echo") { request in
        HTTPResponse(headers: ["X-Body-Length": String(request.body.count)], body: request.body)
    }
    router.post("/small", bodyLimit: 16) { request in HTTPResponse(body: request.body) }
    router.get("/slow/{ms}") { request in
        let ms = Int(request.pathParameters["ms"] ?? "0") ?? 0
        try await Task.sleep(for: .milliseconds(ms))
        return HTTPResponse(body: "slept \(ms)")
    }
    router.get("/stream/{count}") { request in
        let count = Int(request.pathParameters["count"] ?? "0") ?? 0
        return HTTPResponse(stream: { writer in
            for i in 0..<count { try await writer.write("part \(i);") }
        })
    }
    router.get("/boom") { _ in throw TestFailure(secret: "database password is hunter2") }
    return router
}

struct TestFailure: Error { let secret: String }

/// Runs `body` against a live server on 127.0.0.1 with its own loops, then shuts it down.
func withTestServer<T>(
    _ configure: (inout HTTPServer.Configuration) -> Void = { _ in },
    router: Router = makeTestRouter(),
    _ body: (HTTPServer, Int) async throws -> T
) async throws -> T {
    var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
    configuration.shutdownGracePeriod = .seconds(2)
    configure(&configuration)
    let group = try EventLoopGroup(loopCount: 2)
    let server = try HTTPServer(configuration: configuration, group: group, router: router)
    let port = try server.start()
    do {
        let result = try await body(server, port)
        await server.shutdown()
        group.shutdown()
        return result
    } catch {
        await server.shutdown()
        group.shutdown()
        throw error
    }
}
