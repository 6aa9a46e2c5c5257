import ChildProcess
import Foundation
import HTTP
import Testing

@testable import Postgres

/// Our SCRAM client's messages checked the way PostgreSQL checks them (RFC 5802 §3), against
/// the verifiers the real server stored in pg_authid: the proof a real server accepts, and the
/// server signature a real server sends.
@Suite struct SCRAMAgainstPostgresTests {
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as pg_authid.rolpassword holds it.
    struct StoredVerifier {
        let iterations: Int
        let salt: String
        let storedKey: [UInt8]
        let serverKey: [UInt8]

        init(_ text: String) throws {
            let parts = text.split(whereSeparator: { "$:".contains($0) })
            guard parts.count == 5, parts[0] == "SCRAM-SHA-256", let iterations = Int(parts[1]),
                let storedKey = Digest.base64Decoded(parts[3]), let serverKey = Digest.base64Decoded(parts[4])
            else { throw ChildProcessError(description: "not a SCRAM verifier: \(text)") }
            (self.iterations, self.salt, self.storedKey, self.serverKey) = (iterations, String(parts[2]), storedKey, serverKey)
        }

        /// Runs one exchange as the server would; true when the client's proof holds, in which
        /// case the client was also given the server's signature to check.
        func authenticates(_ client: inout SCRAMSHA256Client) throws -> Bool {
            let clientFirst = String(decoding: client.clientFirstMessage(), as: UTF8.self)
            let clientNonce = String(try #require(clientFirst.split(separator: "r=").last))
            let serverFirst = "r=\(clientNonce)servernonce,s=\(salt),i=\(iterations)"
            let clientFinal = String(decoding: try client.clientFinalMessage(serverFirstMessage: Array(serverFirst.utf8)), as: UTF8.self)
            let proofStart = try #require(clientFinal.range(of: ",p="))
            let proof = try #require(Digest.base64Decoded(clientFinal[proofStart.upperBound...]))
            let authMessage = Array("\(clientFirst.dropFirst(3)),\(serverFirst),\(clientFinal[..<proofStart.lowerBound])".utf8)
            let clientKey = zip(proof, Digest.hmacSHA256(key: storedKey, message: authMessage)).map { $0 ^ $1 }
            guard Digest.sha256(clientKey) == storedKey else { return false }
            let signature = Digest.hmacSHA256(key: serverKey, message: authMessage)
            try client.verifyServerFinalMessage(Array("v=\(Digest.base64(signature))".utf8))
            return true
        }
    }

    func psql(_ sql: String, url: String) async throws -> String {
        let process = try ChildProcess(
            executable: try TemporaryCluster.binary("psql"), arguments: ["--no-psqlrc", "--tuples-only", "--no-align", "--command=\(sql)", url],
            environment: ["PATH": "/usr/bin:/bin", "PGCLIENTENCODING": "UTF8"])
        let status = await process.waitForExit(timeout: 30)
        guard status == 0 else { throw ChildProcessError(description: "psql failed: \(process.text)") }
        return process.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func verifier(of role: String, url: String) async throws -> StoredVerifier {
        try StoredVerifier(try await psql("SELECT rolpassword FROM pg_authid WHERE rolname = '\(role)'", url: url))
    }

    @Test func theClusterPasswordPassesTheServersCheckAndTheServerSignatureIsAccepted() async throws {
        let cluster = try await TemporaryCluster.shared()
        let password = try #require(try PostgresConfiguration(connectionString: cluster.url).password?.text)
        let stored = try await verifier(of: "gateway", url: cluster.url)

        var client = SCRAMSHA256Client(password: password, clientNonce: SCRAMSHA256Client.randomClientNonce())
        #expect(try stored.authenticates(&client))
        #expect(client.isAuthenticated)

        var wrong = SCRAMSHA256Client(password: password + "x", clientNonce: "nonce")
        #expect(try !stored.authenticates(&wrong))
        #expect(!wrong.isAuthenticated)
    }

    /// A password SASLprep leaves as it is, sent as its UTF-8 bytes, matches what the server stored.
    @Test func aNonASCIIPasswordIsSentAsTheServerHashedIt() async throws {
        let cluster = try await TemporaryCluster.shared()
        _ = try await psql("DROP ROLE IF EXISTS unicode_role; CREATE ROLE unicode_role LOGIN PASSWORD 'pässwörd-Ω'", url: cluster.url)
        let stored = try await verifier(of: "unicode_role", url: cluster.url)
        var client = SCRAMSHA256Client(password: "pässwörd-Ω", clientNonce: "nonce")
        #expect(try stored.authenticates(&client))
    }
}
