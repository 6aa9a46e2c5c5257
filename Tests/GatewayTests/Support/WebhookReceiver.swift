import ChildProcess
import Foundation
import HTTP
import JSON
import Synchronization

/// A partner's webhook receiver on 127.0.0.1 (our HTTPServer), answering a scripted status per
/// request (200 once the script is used up) and recording what it got.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var target: String
        var headers: HTTPHeaders
        var body: [UInt8]
        var id: String { headers["webhook-id"] ?? "" }
        var timestamp: String { headers["webhook-timestamp"] ?? "" }
        var signature: String { headers["webhook-signature"] ?? "" }
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
        var type: String { json["type"]?.stringValue ?? "" }
    }

    private struct State {
        var received: [Received] = []
        var script: [Int] = []
        var fallback = 200
        var delay: Duration = .zero
        /// Moved by `release`: a request held before it is answered at once.
        var holdSetting = 0
    }

    private final class Box: Sendable { let state = Mutex(State()) }
    private let box = Box()
    private let server: HTTPServer
    let port: Int
    var url: String { "http://127.0.0.1:\(port)/hooks/rokt" }

    init(group: EventLoopGroup) throws {
        let box = self.box
        server = try HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), group: group) { request in
            let (status, delay, setting) = box.state.withLock { state -> (Int, Duration, Int) in
                state.received.append(Received(target: request.head.target, headers: request.headers, body: request.body))
                return (state.script.isEmpty ? state.fallback : state.script.removeFirst(), state.delay, state.holdSetting)
            }
            let until = ContinuousClock.now + delay
            while ContinuousClock.now < until, box.state.withLock({ $0.holdSetting }) == setting {
                try? await Task.sleep(for: min(.milliseconds(10), until - ContinuousClock.now))
            }
            return HTTPResponse(status: HTTPStatus(code: status), headers: ["Content-Type": "text/plain"], body: Array("answer \(status)".utf8))
        }
        port = try server.start()
    }

    /// The next requests get these statuses, in order; after them, `then`.
    func answer(_ statuses: [Int], then fallback: Int = 200) {
        box.state.withLock {
            $0.script = statuses; $0.fallback = fallback
        }
    }

    /// Answers each request `delay` after it arrived (a receiver that hangs).
    func hold(for delay: Duration) { box.state.withLock { $0.delay = delay } }

    /// Stops holding: the requests held so far are answered now, later ones at once.
    func release() {
        box.state.withLock {
            $0.delay = .zero
            $0.holdSetting += 1
        }
    }

    var received: [Received] { box.state.withLock { $0.received } }

    /// Waits until `predicate` holds for what was received (up to `timeout`), then returns it.
    @discardableResult
    func wait(timeout: Duration = .seconds(15), until predicate: ([Received]) -> Bool) async throws -> [Received] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let received = self.received
            if predicate(received) { return received }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ProcessFailure(description: "receiver: condition not met within \(timeout); got \(received.map(\.type))")
    }

    func shutdown() async { await server.shutdown(gracePeriod: .milliseconds(200)) }
}

/// Standard Webhooks verification by an independent implementation: Python's hmac and base64.
enum PythonVerifier {
    static let script = """
        import base64, hashlib, hmac, sys
        secret, msg_id, timestamp, header, body_path = sys.argv[1:6]
        key = base64.b64decode(secret[len("whsec_"):])
        body = open(body_path, "rb").read()
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
        ok = any(hmac.compare_digest(s.split(",", 1)[1], expected) for s in header.split(" ") if s.startswith("v1,"))
        print("VERIFIED" if ok else "MISMATCH")
        """

    /// True when Python finds a `v1,` signature of `received` made with `secret`.
    static func verifies(_ received: WebhookReceiver.Received, secret: String) async throws -> Bool {
        let directory = NSTemporaryDirectory() + "webhook-verify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try script.write(toFile: directory + "/verify.py", atomically: true, encoding: .utf8)
        try Data(received.body).write(to: URL(fileURLWithPath: directory + "/body"))
        let python = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: [
                "python3", directory + "/verify.py", secret, received.id, received.timestamp, received.signature, directory + "/body",
            ])
        guard await python.waitForExit(timeout: 30) == 0 else { throw ProcessFailure(description: "python failed: \(python.text)") }
        return python.text.contains("VERIFIED")
    }
}
