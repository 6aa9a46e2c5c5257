import COpenSSL
import Glibc
import Testing
@testable import HTTP

/// Client and server sessions over a non-blocking socketpair, pumped by hand with poll():
/// no threads, no sleeps, and every loop bounded.
@Suite struct TLSSessionTests {
    // MARK: Handshake and verification

    @Test func trustedCertificateForLocalhostHandshakesAndBytesFlowBothWays() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        let outcome = peers.pumpHandshakes()
        #expect(outcome.client == .complete)
        #expect(outcome.server == .complete)
        #expect(peers.client.protocolVersion == "TLSv1.3")
        #expect(peers.server.requestedServerName == "localhost")

        var scratch = [UInt8](repeating: 0, count: 64)
        #expect(scratch.withUnsafeMutableBytes { peers.server.read(into: $0) } == .wantRead)

        let request = peers.transfer(Array("GET / HTTP/1.1\r\n\r\n".utf8), from: .client)
        #expect(request.received == Array("GET / HTTP/1.1\r\n\r\n".utf8))
        let response = peers.transfer(Array("HTTP/1.1 204 No Content\r\n\r\n".utf8), from: .server)
        #expect(response.received == Array("HTTP/1.1 204 No Content\r\n\r\n".utf8))
    }

    @Test func megabytePayloadsRoundTripThroughPartialWrites() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        #expect(peers.pumpHandshakes().bothComplete)
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }

        let upload = peers.transfer(payload, from: .client)
        #expect(upload.failure == nil)
        #expect(upload.received.count == payload.count)
        #expect(upload.received == payload)
        #expect(upload.sawPartialWrite, "a 1 MiB write must not fit the socket buffer at once")

        let download = peers.transfer(payload, from: .server)
        #expect(download.failure == nil)
        #expect(download.received == payload)
        #expect(download.sawPartialWrite)
    }

    @Test func wrongHostnameFailsVerificationWithHostnameMismatch() async throws {
        let peers = try await TLSPeers(serverName: "example.com")
        let outcome = peers.pumpHandshakes()
        let error = try #require(outcome.client.failure)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.verificationFailure == "hostname mismatch")
        #expect(error.description.contains("hostname mismatch"))
        #expect(outcome.server.failure?.kind == .handshakeFailed, "the server hears the client's alert")
    }

    @Test(arguments: [false, true])
    func certificateFromUntrustedCAFailsVerification(trustSystemRoots: Bool) async throws {
        let certificates = try await TestCertificates.shared()
        let peers = try await TLSPeers(
            serverName: "localhost",
            client: .client(trustSystemRoots: trustSystemRoots, additionalCAFile: certificates.otherCAFile))
        let error = try #require(peers.pumpHandshakes().client.failure)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.verificationFailure == "unable to get local issuer certificate")
    }

    @Test func ipLiteralVerifiesAgainstTheIPSubjectAltNameWithoutSNI() async throws {
        let peers = try await TLSPeers(serverName: "127.0.0.1")
        #expect(peers.pumpHandshakes().bothComplete)
        #expect(peers.server.requestedServerName == nil, "RFC 6066: no SNI for IP literals")
    }

    @Test func ipLiteralMissingFromCertificateFailsVerification() async throws {
        let peers = try await TLSPeers(serverName: "127.0.0.2")
        let error = try #require(peers.pumpHandshakes().client.failure)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.verificationFailure == "IP address mismatch")
    }

    @Test func disabledHostnameCheckStillVerifiesTheChain() async throws {
        let certificates = try await TestCertificates.shared()
        let trusting = try await TLSPeers(
            serverName: "example.com",
            client: .client(trustSystemRoots: false, additionalCAFile: certificates.caFile, verifyHostname: false))
        #expect(trusting.pumpHandshakes().bothComplete)

        let untrusting = try await TLSPeers(
            serverName: "example.com",
            client: .client(trustSystemRoots: false, additionalCAFile: certificates.otherCAFile, verifyHostname: false))
        #expect(untrusting.pumpHandshakes().client.failure?.kind == .certificateVerificationFailed)
    }

    @Test func contextsNeverNegotiateBelowTLS12ButAcceptTLS12() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        #expect(peers.clientContext.minimumProtocolVersion == Int(copenssl_tls1_2_version()))
        #expect(peers.serverContext.minimumProtocolVersion == Int(copenssl_tls1_2_version()))
        _ = copenssl_set_max_proto_version(peers.client.ssl, copenssl_tls1_2_version())
        #expect(peers.pumpHandshakes().bothComplete)
        #expect(peers.client.protocolVersion == "TLSv1.2")
        #expect(peers.transfer(Array("over 1.2".utf8), from: .client).received == Array("over 1.2".utf8))
    }

    // MARK: Context setup

    @Test func serverKeyNotMatchingCertificateIsRefused() async throws {
        let certificates = try await TestCertificates.shared()
        // Same key type (OpenSSL refuses it while loading) and another type (caught by the check).
        for wrongKey in [certificates.caKeyFile, certificates.ed25519KeyFile] {
            let error = try #require(throws: TLSError.self) {
                try TLSContext(.server(certificateChainFile: certificates.serverCertFile, privateKeyFile: wrongKey))
            }
            #expect(error.kind == .privateKeyMismatch, "\(wrongKey): \(error)")
        }
    }

    @Test func unreadableCertificateFilesAreReportedWithTheirPath() async throws {
        let certificates = try await TestCertificates.shared()
        let missing = certificates.directory + "/missing.pem"
        let error = try #require(throws: TLSError.self) {
            try TLSContext(.server(certificateChainFile: missing, privateKeyFile: certificates.serverKeyFile))
        }
        #expect(error.kind == .certificateLoadFailed)
        #expect(error.operation.contains(missing))
        #expect(throws: TLSError.self) { try TLSContext(.client(trustSystemRoots: false, additionalCAFile: missing)) }
    }

    @Test func clientWithoutAnyTrustAnchorIsRefused() {
        let error = #expect(throws: TLSError.self) { try TLSContext(.client(trustSystemRoots: false)) }
        #expect(error?.kind == .contextSetupFailed)
    }

    @Test func emptyServerNameIsRefusedRatherThanSkippingTheHostnameCheck() async throws {
        let context = try TLSContext(.client())
        let sockets = try TLSPeers.Sockets()
        let error = #expect(throws: TLSError.self) { try TLSSession.client(context: context, fd: sockets.clientFD, serverName: "") }
        #expect(error?.kind == .sessionSetupFailed)
    }

    // MARK: Closing

    @Test func readReportsClosedAfterPeerSendsCloseNotify() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        #expect(peers.pumpHandshakes().bothComplete)
        #expect(peers.client.shutdown())
        #expect(peers.readUntilSettled(.server) == .closed)
    }

    @Test func readReportsClosedAtEOFWithoutCloseNotify() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        #expect(peers.pumpHandshakes().bothComplete)
        // Consume the server's TLS 1.3 session tickets: closing with unread data would reset.
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(buffer.withUnsafeMutableBytes { peers.client.read(into: $0) } == .wantRead)
        peers.sockets.closeClient()
        #expect(peers.readUntilSettled(.server) == .closed)
        peers.server.shutdown()  // best effort towards a closed peer: must neither crash nor raise SIGPIPE
    }

    @Test func readReportsIOFailureWhenPeerResetsTheConnection() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        #expect(peers.pumpHandshakes().bothComplete)
        peers.sockets.closeClient()  // unread session tickets turn the close into a reset
        let result = peers.readUntilSettled(.server)
        guard case .failed(let error) = result else { Issue.record("expected failure, got \(result)"); return }
        #expect(error.kind == .ioFailed)
        #expect(error.reason.contains("Connection reset by peer"))
        #expect(!peers.server.shutdown(), "no close_notify after a fatal error")
    }

    @Test func closedSessionReportsFailureInsteadOfTouchingFreedState() async throws {
        let peers = try await TLSPeers(serverName: "localhost")
        #expect(peers.pumpHandshakes().bothComplete)
        peers.client.close()
        let result = Array("late".utf8).withUnsafeBytes { peers.client.write($0) }
        guard case .failed(let error) = result else { Issue.record("expected failure, got \(result)"); return }
        #expect(error.kind == .ioFailed)
        #expect(peers.client.pendingBytes == 0)
        #expect(!peers.client.shutdown())
    }
}

// MARK: - Harness

/// A client and a server session over one socketpair, by default trusting the test CA.
struct TLSPeers {
    enum Side { case client, server }

    /// Two connected non-blocking stream sockets.
    final class Sockets {
        private(set) var clientFD: Int32 = -1
        private(set) var serverFD: Int32 = -1

        init() throws {
            signal(SIGPIPE, SIG_IGN)  // OpenSSL writes with write(2): a closed peer must give EPIPE
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw SocketpairFailed(errno: errno) }
            (clientFD, serverFD) = (fds[0], fds[1])
            for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        }

        struct SocketpairFailed: Error { let errno: Int32 }

        func closeClient() {
            if clientFD >= 0 { Glibc.close(clientFD) }
            clientFD = -1
        }

        deinit {
            closeClient()
            if serverFD >= 0 { Glibc.close(serverFD) }
        }
    }

    let sockets: Sockets
    let clientContext: TLSContext
    let serverContext: TLSContext
    let client: TLSSession
    let server: TLSSession

    init(serverName: String, client clientConfiguration: TLSConfiguration? = nil) async throws {
        let certificates = try await TestCertificates.shared()
        sockets = try Sockets()
        serverContext = try TLSContext(
            .server(
                certificateChainFile: certificates.serverCertFile, privateKeyFile: certificates.serverKeyFile))
        clientContext = try TLSContext(
            clientConfiguration ?? .client(trustSystemRoots: false, additionalCAFile: certificates.caFile))
        client = try TLSSession.client(context: clientContext, fd: sockets.clientFD, serverName: serverName)
        server = try TLSSession.server(context: serverContext, fd: sockets.serverFD)
    }

    struct HandshakeOutcome {
        var client: TLSHandshakeResult?
        var server: TLSHandshakeResult?
        var bothComplete: Bool { client == .complete && server == .complete }
    }

    /// Steps both handshakes until neither can progress: both finished, or poll() saw nothing
    /// to do for a second (e.g. one side failed and the other has read its alert).
    func pumpHandshakes() -> HandshakeOutcome {
        var outcome = HandshakeOutcome()
        for _ in 0..<200 {
            if outcome.client.isPending { outcome.client = client.handshake() }
            if outcome.server.isPending { outcome.server = server.handshake() }
            let waiting = [(sockets.clientFD, outcome.client), (sockets.serverFD, outcome.server)]
                .compactMap { fd, result in result.flatMap { pollFD(fd, for: $0) } }
            if waiting.isEmpty || !pollReady(waiting) { break }
        }
        return outcome
    }

    struct Transfer {
        var received: [UInt8] = []
        var sawPartialWrite = false
        var failure: TLSIOResult?
    }

    /// Writes all of `payload` from one side while the other reads, until it has arrived.
    func transfer(_ payload: [UInt8], from sender: Side) -> Transfer {
        let (writer, reader) = sender == .client ? (client, server) : (server, client)
        let (writerFD, readerFD) = sender == .client ? (sockets.clientFD, sockets.serverFD) : (sockets.serverFD, sockets.clientFD)
        var transfer = Transfer()
        var sent = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        for _ in 0..<10_000 where transfer.received.count < payload.count {
            var progressed = false
            if sent < payload.count {
                let remaining = payload.count - sent
                switch payload.withUnsafeBytes({ writer.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }) {
                case .bytes(let count):
                    transfer.sawPartialWrite = transfer.sawPartialWrite || count < remaining
                    sent += count
                    progressed = true
                case .wantRead, .wantWrite: break
                case let other: transfer.failure = other; return transfer
                }
            }
            reading: while true {
                switch buffer.withUnsafeMutableBytes({ reader.read(into: $0) }) {
                case .bytes(let count):
                    transfer.received += buffer[..<count]
                    progressed = true
                case .wantRead, .wantWrite: break reading
                case let other: transfer.failure = other; return transfer
                }
            }
            if !progressed,
                !pollReady([
                    pollfd(fd: writerFD, events: Int16(POLLOUT), revents: 0),
                    pollfd(fd: readerFD, events: Int16(POLLIN), revents: 0),
                ])
            {
                break
            }
        }
        return transfer
    }

    /// Reads on one side until the result is something other than data or "want read".
    func readUntilSettled(_ side: Side) -> TLSIOResult {
        let (session, fd) = side == .client ? (client, sockets.clientFD) : (server, sockets.serverFD)
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<100 {
            let result = buffer.withUnsafeMutableBytes { session.read(into: $0) }
            switch result {
            case .bytes: continue
            case .wantRead: if !pollReady([pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]) { return result }
            default: return result
            }
        }
        return .wantRead
    }

    private func pollFD(_ fd: Int32, for result: TLSHandshakeResult) -> pollfd? {
        switch result {
        case .wantRead: pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        case .wantWrite: pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        default: nil
        }
    }

    /// Waits up to a second for any of `fds` to be ready; false when nothing happened.
    private func pollReady(_ fds: [pollfd]) -> Bool {
        var fds = fds
        return poll(&fds, nfds_t(fds.count), 1000) > 0
    }
}

extension Optional where Wrapped == TLSHandshakeResult {
    /// Not started yet, or waiting on the socket.
    fileprivate var isPending: Bool { self == nil || self == .wantRead || self == .wantWrite }

    fileprivate var failure: TLSError? {
        if case .failed(let error)? = self { return error }
        return nil
    }
}
