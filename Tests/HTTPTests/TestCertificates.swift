import ChildProcess
import Foundation
import Synchronization

/// Throwaway PKI for TLS tests, made with the `openssl` CLI in a fresh temporary directory:
///
/// - `caFile`/`caKeyFile`: a CA (EC P-256, 2 days, `CA:TRUE, pathlen:0`, keyCertSign).
/// - `serverCertFile`/`serverKeyFile`: a leaf for `DNS:localhost` and `IP:127.0.0.1`, signed
///   by that CA, with `CA:FALSE`, digitalSignature and the serverAuth EKU.
/// - `otherCAFile`: an unrelated CA, for "untrusted issuer" tests.
/// - `ed25519KeyFile`: a key of another type than the server's, for key-mismatch tests.
///
/// `TestCertificates.shared()` makes the set once per test process and removes the directory at exit.
struct TestCertificates: Sendable {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var caKeyFile: String { directory + "/ca.key" }
    var otherCAFile: String { directory + "/other-ca.pem" }
    var serverCertFile: String { directory + "/server.pem" }
    var serverKeyFile: String { directory + "/server.key" }
    var ed25519KeyFile: String { directory + "/ed25519.key" }

    struct OpenSSLCommandFailed: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let output: String
        var description: String { "openssl \(arguments.joined(separator: " ")) exited \(status): \(output)" }
    }

    private static let making = Mutex<Task<TestCertificates, any Error>?>(nil)
    /// Read by the exit handler, which cannot capture anything.
    private static let madeDirectory = Mutex<String?>(nil)

    /// The set, made by the first caller on a thread of its own (the `openssl` runs block for
    /// seconds on a loaded machine; on the cooperative pool they would stall every other test).
    static func shared() async throws -> TestCertificates {
        let task = making.withLock { task in
            if let task { return task }
            let made = Task {
                let certificates = try await offPool { try TestCertificates() }
                madeDirectory.withLock { $0 = certificates.directory }
                atexit { if let directory = TestCertificates.madeDirectory.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: directory) } }
                return certificates
            }
            task = made
            return made
        }
        return try await task.value
    }

    /// Makes a new, independent set (tests needing isolation; most should use `shared()`).
    init() throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("http-tls-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = directory + "/openssl.cnf"
        try Self.extensionsConfig.write(toFile: config, atomically: true, encoding: .utf8)

        try makeCA(name: "HTTP Test CA", certificate: caFile, key: caKeyFile, config: config)
        try makeCA(name: "Unrelated Test CA", certificate: otherCAFile, key: directory + "/other-ca.key", config: config)

        let request = directory + "/server.csr"
        try Self.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", serverKeyFile])
        try Self.run(["req", "-new", "-config", config, "-key", serverKeyFile, "-subj", "/CN=localhost", "-out", request])
        try Self.run([
            "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKeyFile, "-set_serial", "2",
            "-days", "2", "-sha256", "-extfile", config, "-extensions", "server_leaf", "-out", serverCertFile,
        ])
        try Self.run(["genpkey", "-algorithm", "ED25519", "-out", ed25519KeyFile])
    }

    private func makeCA(name: String, certificate: String, key: String, config: String) throws {
        try Self.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        try Self.run([
            "req", "-new", "-x509", "-config", config, "-extensions", "test_ca", "-key", key,
            "-subj", "/CN=\(name)", "-days", "2", "-sha256", "-out", certificate,
        ])
    }

    /// Our own config, so the system openssl.cnf's defaults cannot add or clash with extensions.
    private static let extensionsConfig = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [test_ca]
        basicConstraints = critical, CA:TRUE, pathlen:0
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [server_leaf]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost, IP:127.0.0.1
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always

        """

    private static func run(_ arguments: [String]) throws {
        let process = try ChildProcess(executable: "/usr/bin/env", arguments: ["openssl"] + arguments)
        let status = process.waitUntilExit()
        guard status == 0 else {
            throw OpenSSLCommandFailed(arguments: arguments, status: status, output: process.text)
        }
    }
}
