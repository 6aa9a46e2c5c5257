import ChildProcess
import Foundation
import Testing

@testable import Postgres

/// One connection against the throwaway cluster: startup, queries, errors, timeouts, close.
/// Serialized: each connect runs SCRAM key derivation on both sides, and twenty at once would
/// starve the rest of the suite of CPU on a small machine.
@Suite(.serialized) struct PostgresConnectionTests {
    static func configuration(_ edit: (inout PostgresConfiguration) -> Void = { _ in }) async throws -> PostgresConfiguration {
        var configuration = try PostgresConfiguration(connectionString: try await TemporaryCluster.shared().url)
        configuration.sslMode = .disable
        edit(&configuration)
        return configuration
    }

    static func connect(_ edit: (inout PostgresConfiguration) -> Void = { _ in }) async throws -> PostgresConnection {
        try await PostgresConnection.connect(try await configuration(edit))
    }

    @Test func connectsWithSCRAMAndKeepsTheSessionFacts() async throws {
        let connection = try await Self.connect { $0.applicationName = "connection-test" }
        #expect(connection.parameters["client_encoding"] == "UTF8")
        #expect(connection.parameters["DateStyle"]?.hasPrefix("ISO") == true)
        #expect(connection.parameters["TimeZone"] == "UTC")
        #expect(connection.parameters["application_name"] == "connection-test")
        let pid = try await connection.query("SELECT pg_backend_pid()").rows[0][0].int64
        #expect(pid == Int64(connection.processID))
        #expect(connection.transactionStatus == .idle)
        await connection.close()
        #expect(connection.isClosed)
    }

    @Test func connectsThroughTheUnixSocket() async throws {
        let cluster = try await TemporaryCluster.shared()
        let connection = try await Self.connect { $0.endpoints = [.unixSocket(directory: cluster.directory, port: $0.endpoints[0].port)] }
        #expect(try await connection.query("SELECT 1::int4").rows[0][0] == .int32(1))
        await connection.close()
    }

    @Test(.enabled(if: SSLAnswerServer.hasIPv6Loopback)) func connectsOverIPv6() async throws {
        let connection = try await Self.connect { $0.endpoints = [.tcp(host: "::1", address: nil, port: $0.endpoints[0].port)] }
        let family = try await connection.query("SELECT family(inet_client_addr())").rows[0][0]
        #expect(family == .int32(6))
        await connection.close()
    }

    @Test func aWrongPasswordIsATypedAuthenticationErrorWithoutThePassword() async throws {
        let secret = "not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = await #expect(throws: PostgresConnectionError.self) {
            _ = try await Self.connect { $0.password = PostgresPassword(secret) }
        }
        guard case .authenticationFailed(let server) = error else { Issue.record("not an authentication error: \(String(describing: error))"); return }
        #expect(server.sqlState == .invalidPassword)
        #expect(error?.sqlState == .invalidPassword)
        #expect(!"\(error!)".contains(secret))
    }

    static func usesTLS(_ connection: PostgresConnection) async throws -> Bool {
        try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows[0][0] == .bool(true)
    }

    @Test func sslmodeDisableStaysInTheClearAndRequireEncrypts() async throws {
        let plain = try await Self.connect()
        #expect(try await !Self.usesTLS(plain))
        await plain.close()
        for mode in [SSLMode.prefer, .require] {
            let encrypted = try await Self.connect { $0.sslMode = mode }
            #expect(try await Self.usesTLS(encrypted), "\(mode)")
            await encrypted.close()
        }
    }

    @Test func verifyFullAcceptsTheClustersCertificateByAddressAndByName() async throws {
        let cluster = try await TemporaryCluster.shared()
        for host in ["127.0.0.1", "localhost"] {
            let connection = try await Self.connect {
                $0.sslMode = .verifyFull
                $0.sslRootCertificate = cluster.directory + "/server.crt"
                $0.endpoints = [.tcp(host: host, address: "127.0.0.1", port: $0.endpoints[0].port)]
            }
            #expect(try await Self.usesTLS(connection))
            await connection.close()
        }
    }

    @Test func verifyFullRefusesACertificateNoTrustedRootSigned() async throws {
        let error = await #expect(throws: PostgresConnectionError.self) {
            _ = try await Self.connect { $0.sslMode = .verifyFull }
        }
        guard case .tlsFailed = error else { Issue.record("unexpected: \(String(describing: error))"); return }
    }

    @Test func aServerThatRefusesTLSFailsSSLModeRequireClearly() async throws {
        let server = try SSLAnswerServer(answer: [UInt8(ascii: "N")])
        let error = await #expect(throws: PostgresConnectionError.self) {
            _ = try await Self.connect {
                $0.sslMode = .require
                $0.endpoints = [.tcp(host: "127.0.0.1", address: nil, port: server.port)]
            }
        }
        guard case .tlsRefusedByServer = error else { Issue.record("unexpected: \(String(describing: error))"); return }
    }

    /// CVE-2021-23222: bytes after 'S' were not sent through TLS and must not be read as if they were.
    @Test func bytesInjectedAfterTheSSLAnswerAreRefused() async throws {
        let server = try SSLAnswerServer(answer: Array("SR\0\0\0\u{8}\0\0\0\0".utf8))
        let error = await #expect(throws: PostgresConnectionError.self) {
            _ = try await Self.connect {
                $0.sslMode = .require
                $0.endpoints = [.tcp(host: "127.0.0.1", address: nil, port: server.port)]
            }
        }
        guard case .protocolViolation = error else { Issue.record("unexpected: \(String(describing: error))"); return }
    }

    @Test func aServerThatNeverAnswersTimesOutAfterConnectTimeout() async throws {
        let server = try SSLAnswerServer(answer: nil)
        let error = await #expect(throws: PostgresConnectionError.self) {
            _ = try await Self.connect {
                $0.connectTimeout = .milliseconds(300)
                $0.endpoints = [.tcp(host: "127.0.0.1", address: nil, port: server.port)]
            }
        }
        guard case .connectTimedOut = error else { Issue.record("unexpected: \(String(describing: error))"); return }
    }

    @Test func aClosedPortIsAConnectError() async throws {
        let error = await #expect(throws: PostgresConnectionError.self) {
            _ = try await Self.connect { $0.endpoints = [.tcp(host: "127.0.0.1", address: nil, port: 1)] }
        }
        guard case .connectFailed = error else { Issue.record("unexpected: \(String(describing: error))"); return }
    }

    @Test func everyCodecTypeRoundTripsAsAParameter() async throws {
        let connection = try await Self.connect()
        let values: [(PostgresValue, String)] = [
            (.bool(true), "bool"), (.int16(-7), "int2"), (.int32(1 << 30), "int4"), (.int64(-(1 << 40)), "int8"), (.double(2.5), "float8"),
            (.text("héllo ✓"), "text"), (.text("'); DROP TABLE pg_class; --"), "text"), (.bytes([0, 1, 0xFE, 0xFF]), "bytea"), (.json(#"{"a": [1, 2]}"#), "jsonb"),
            (.timestamp(PostgresTimestamp(microsecondsSince2000: 818_035_920_123_456)), "timestamptz"),
            (.uuid(PostgresUUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")!), "uuid"),
        ]
        // Twice: the first run asks for text results, the second for binary (the types are known then).
        for _ in 0..<2 {
            for (value, type) in values {
                let row = try await connection.query("SELECT $1::\(type) AS v, $2::\(type) IS NULL AS n", [value, .null]).rows[0]
                #expect(row["v"] == value, "\(type)")
                #expect(row["n"] == .bool(true))
            }
        }
        let formats = try await connection.query("SELECT $1::int8, $1::numeric", [.int64(5)]).columns.map(\.format)
        #expect(formats == [.text, .text])
        let second = try await connection.query("SELECT $1::int8, $1::numeric", [.int64(5)])
        #expect(second.columns.map(\.format) == [.binary, .text])
        #expect(second.rows[0].values == [.int64(5), .text("5")])
        await connection.close()
    }

    @Test func aSyntaxErrorIsTypedAndTheConnectionStaysUsable() async throws {
        let connection = try await Self.connect()
        let error = await #expect(throws: PostgresError.self) { _ = try await connection.query("SELEKT 1") }
        #expect(error?.sqlState == SQLState("42601"))
        #expect(try await connection.query("SELECT 2::int8").rows[0][0] == .int64(2))
        await connection.close()
    }

    @Test func aTransactionRolledBackLeavesNothingAndAUniqueViolationIs23505() async throws {
        let connection = try await Self.connect()
        let table = "t_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.simpleQuery("CREATE TABLE \(table) (id int8 PRIMARY KEY, note text)")
        let inserted = try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", [.int64(1), .text("one")])
        #expect(inserted.rowsAffected == 1)
        let duplicate = await #expect(throws: PostgresError.self) { _ = try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", [.int64(1), .text("again")]) }
        #expect(duplicate?.sqlState == .uniqueViolation)

        try await connection.simpleQuery("BEGIN")
        #expect(connection.transactionStatus == .inTransaction)
        _ = try await connection.query("INSERT INTO \(table) VALUES ($1, $2)", [.int64(2), .text("two")])
        _ = await #expect(throws: PostgresError.self) { _ = try await connection.query("SELECT 1/0") }
        #expect(connection.transactionStatus == .failedTransaction)
        try await connection.simpleQuery("ROLLBACK")
        #expect(connection.transactionStatus == .idle)
        let count = try await connection.query("SELECT count(*) FROM \(table)")
        #expect(count.rows[0][0] == .int64(1))
        #expect(count.rowsAffected == 1)
        try await connection.simpleQuery("DROP TABLE \(table)")
        await connection.close()
    }

    @Test func aQueryPastItsTimeoutIsCancelledAndTheConnectionStaysUsable() async throws {
        let connection = try await Self.connect()
        let error = await #expect(throws: PostgresConnectionError.self) { _ = try await connection.query("SELECT pg_sleep(10)", timeout: .milliseconds(200)) }
        guard case .queryTimedOut(let server) = error else { Issue.record("unexpected: \(String(describing: error))"); return }
        #expect(server?.sqlState == .queryCanceled)
        #expect(try await connection.query("SELECT 3::int4").rows[0][0] == .int32(3))
        await connection.close()
    }

    /// A query that ends on its own while its timeout's CancelRequest is still on the way must not
    /// leave that cancel to the next query: the session writes nothing until the server has
    /// closed the cancel's socket. A proxy holds the cancel's connection back 600 ms, as a
    /// congested network could; sent at once, the next query would be running when it lands.
    @Test func aCancelStillOnTheWayNeverLandsOnTheNextQuery() async throws {
        let direct = try await Self.configuration()
        guard case .tcp(_, _, let serverPort) = direct.endpoints.first else {
            Issue.record("the cluster is not on TCP: \(direct.endpoints)")
            return
        }
        let proxy = try DelayingProxy(to: serverPort, laterConnectionsDelay: .milliseconds(600))
        let connection = try await Self.connect { $0.endpoints = [.tcp(host: "127.0.0.1", address: nil, port: proxy.port)] }
        // Past its timeout at 100 ms: the cancel leaves and is held; the query ends on its own at 300 ms.
        _ = try? await connection.query("SELECT pg_sleep(0.3)", timeout: .milliseconds(100))
        let second = try await connection.query("SELECT pg_sleep(1), 5::int4")
        #expect(second.rows[0][1] == .int32(5))
        #expect(try await connection.query("SELECT 6::int4").rows[0][0] == .int32(6))
        await connection.close()
    }

    /// Waits until `connection`'s backend runs a statement starting with `prefix`, asking `observer`.
    static func waitUntilRunning(_ prefix: String, on connection: PostgresConnection, observer: PostgresConnection) async throws {
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND starts_with(query, $2)"
        while try await observer.query(sql, [.int32(connection.processID), .text(prefix)]).rows[0][0] != .int64(1) { await Task.yield() }
    }

    @Test func cancellingTheTaskCancelsTheRunningQueryAndTheWaitingOne() async throws {
        let connection = try await Self.connect()
        let observer = try await Self.connect()
        let running = Task { try await connection.query("SELECT pg_sleep(10)") }
        try await Self.waitUntilRunning("SELECT pg_sleep", on: connection, observer: observer)
        let waiting = Task { try await connection.query("SELECT 1") }
        waiting.cancel()
        running.cancel()
        let error = await #expect(throws: PostgresConnectionError.self) { _ = try await running.value }
        guard case .queryCancelled(let server) = error else { Issue.record("unexpected: \(String(describing: error))"); return }
        #expect(server?.sqlState == .queryCanceled)
        let dropped = await #expect(throws: PostgresConnectionError.self) { _ = try await waiting.value }
        guard case .queryCancelled(nil) = dropped else { Issue.record("unexpected: \(String(describing: dropped))"); return }
        #expect(try await connection.query("SELECT 4::int4").rows[0][0] == .int32(4))
        await observer.close()
        await connection.close()
    }

    /// Threads of this process named `name`.
    static func threads(named name: String) -> Int {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return -1 }
        return tasks.filter { (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) == name + "\n" }.count
    }

    /// An open session is run by the process's event loops: no thread of its own (a session
    /// used to keep a thread named "postgres"; opening one, and sending a cancel, still take a
    /// short-lived thread, named "postgres-open" and "postgres-cancel").
    @Test func anOpenSessionHoldsNoThreadOfItsOwn() async throws {
        var connections: [PostgresConnection] = []
        for _ in 0..<6 { connections.append(try await Self.connect()) }
        for connection in connections { #expect(try await connection.query("SELECT 1::int4").rows[0][0] == .int32(1)) }
        #expect(Self.threads(named: "postgres") == 0)
        #expect(Self.threads(named: "http-loop-0") >= 1)  // the count reads names right
        for connection in connections { await connection.close() }
    }

    @Test func aNotificationArrivesWhileTheListenerIsIdle() async throws {
        let listener = try await Self.connect()
        let notifier = try await Self.connect()
        try await listener.simpleQuery("LISTEN jobs")
        _ = try await notifier.query("SELECT pg_notify('jobs', $1)", [.text("lane-7")])
        var iterator = listener.notifications.makeAsyncIterator()
        let notification = await iterator.next()
        #expect(notification == PostgresNotification(processID: notifier.processID, channel: "jobs", payload: "lane-7"))
        await notifier.close()
        await listener.close()
    }

    @Test func aTerminatedBackendFailsTheNextQueryWithATypedClosedError() async throws {
        let victim = try await Self.connect()
        let admin = try await Self.connect()
        _ = try await admin.query("SELECT pg_terminate_backend($1)", [.int32(victim.processID)])
        // The victim's thread reads the FATAL and the close while idle; the end of the
        // notification stream is the observable sign.
        var iterator = victim.notifications.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        let error = await #expect(throws: PostgresConnectionError.self) { _ = try await victim.query("SELECT 1") }
        guard case .closed(_, let server) = error else { Issue.record("unexpected: \(String(describing: error))"); return }
        #expect(server?.sqlState == .adminShutdown)
        #expect(victim.isClosed)
        await admin.close()
    }

    @Test func aBackendTerminatedMidQueryFailsThatQueryAndTheWaitingOnes() async throws {
        let victim = try await Self.connect()
        let admin = try await Self.connect()
        let running = Task { try await victim.query("SELECT pg_sleep(10)") }
        try await Self.waitUntilRunning("SELECT pg_sleep", on: victim, observer: admin)
        // Queued behind the sleep (started earlier, it could have run first and succeeded); queued
        // after the close instead, it fails the same way.
        let waiting = Task { try await victim.query("SELECT 1") }
        _ = try await admin.query("SELECT pg_terminate_backend($1)", [.int32(victim.processID)])
        for task in [running, waiting] {
            let error = await #expect(throws: PostgresConnectionError.self) { _ = try await task.value }
            guard case .closed = error else { Issue.record("unexpected: \(String(describing: error))"); continue }
        }
        #expect(victim.isClosed)
        await admin.close()
    }

    @Test func queriesFromManyTasksRunOneAtATimeInOrder() async throws {
        let connection = try await Self.connect()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    let row = try await connection.query("SELECT $1::int8", [.int64(Int64(i))]).rows[0]
                    #expect(row[0] == .int64(Int64(i)))
                }
            }
            try await group.waitForAll()
        }
        await connection.close()
    }
}
