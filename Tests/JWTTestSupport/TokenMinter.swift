import ChildProcess
import Foundation
import JSON
import Synchronization

/// How one test token is made. `claims` are written as given (the tests put every time in them,
/// relative to a fixed instant, so no test depends on the wall clock).
public struct TokenSpec: Sendable {
    /// How the Python side signs: PyJWT's `jwt.encode`, by hand, or one of the forgeries.
    public enum Mode: String, Sendable {
        case pyjwt, byHand, none, derSignature, hmacWithPublicPEM, hmacWithPublicJWK, tamperedPayload, tamperedSignature
    }

    public var name: String
    public var alg: String
    /// The key that signs (`rsa-1`, `rsa-2`, `rsa-1024`, `ec-1`, `ec-384`, `ed-1`; ignored for HS256), and the header's `kid`.
    public var kid: String?
    /// Another key to sign with than the `kid` names (nil: the same one).
    public var signingKey: String?
    public var claims: [String: JSONValue]
    /// Extra or overriding header parameters.
    public var header: [String: JSONValue]
    public var mode: Mode

    public init(
        _ name: String, alg: String, kid: String?, signingKey: String? = nil, claims: [String: JSONValue], header: [String: JSONValue] = [:],
        mode: Mode = .pyjwt
    ) {
        self.name = name
        self.alg = alg
        self.kid = kid
        self.signingKey = signingKey
        self.claims = claims
        self.header = header
        self.mode = mode
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "alg": .string(alg), "claims": .object(claims), "header": .object(header), "mode": .string(mode.rawValue)]
        if let kid { object["kid"] = .string(kid) }
        if let signingKey { object["signingKey"] = .string(signingKey) }
        return .object(object)
    }
}

/// Keys, tokens and a loopback TLS certificate made by PyJWT and `cryptography` (.ci/run installs
/// them), so the verifier is tested against an implementation other than its own.
public struct MintedTokens: Sendable {
    public let directory: String
    /// Each key's public JWK (`kid`, `use: sig` set), by kid.
    public let publicKeys: [String: JSONValue]
    public let hs256Secret: String
    public let tokens: [String: String]

    /// A CA and a leaf for `127.0.0.1`/`localhost` it signed, for a JWKS served over TLS.
    public var caFile: String { directory + "/ca.pem" }
    public var serverCertificateFile: String { directory + "/server.pem" }
    public var serverKeyFile: String { directory + "/server.key" }

    public subscript(name: String) -> String {
        guard let token = tokens[name] else { fatalError("no token named \(name) was minted") }
        return token
    }

    /// A JWK Set of the named public keys.
    public func keySet(_ kids: [String]) -> [UInt8] {
        JSONValue.object(["keys": .array(kids.map { publicKeys[$0]! })]).serializedBytes
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs the script once on a thread of its own (it blocks for a second or two generating
    /// RSA keys, which on the cooperative pool would stall other tests).
    public static func mint(_ specs: [TokenSpec]) async throws -> MintedTokens {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try mintBlocking(specs) }) }
        }
    }

    /// Removed when the test process exits (read by the exit handler, which cannot capture anything).
    private static let madeDirectories = Mutex<[String]?>(nil)

    private static func mintBlocking(_ specs: [TokenSpec]) throws -> MintedTokens {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let first = madeDirectories.withLock { made in
            defer { made = (made ?? []) + [directory] }
            return made == nil
        }
        if first {
            atexit { for directory in MintedTokens.madeDirectories.withLock({ $0 ?? [] }) { try? FileManager.default.removeItem(atPath: directory) } }
        }
        let spec = JSONValue.object(["tokens": .array(specs.map(\.json))]).serialized
        let process = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", tokenMinterScript, directory, spec])
        let status = process.waitUntilExit()
        guard status == 0, let data = FileManager.default.contents(atPath: directory + "/minted.json") else {
            throw Failed(description: "minting tokens with PyJWT exited \(status) (pip install pyjwt cryptography): \(process.text)")
        }
        let result = try JSONParser.parse(Array(data))
        guard let keys = result["publicKeys"]?.objectValue, let secret = result["hs256Secret"]?.stringValue,
            let tokens = result["tokens"]?.objectValue?.compactMapValues(\.stringValue)
        else { throw Failed(description: "minted.json lacks keys or tokens") }
        return MintedTokens(directory: directory, publicKeys: keys, hs256Secret: secret, tokens: tokens)
    }
}

/// One suite's tokens, minted once per test process however many tests ask at once (minting runs
/// Python and makes RSA keys: seconds on a loaded machine).
public final class MintOnce: Sendable {
    private let specs: [TokenSpec]
    private let minting = Mutex<Task<MintedTokens, any Error>?>(nil)

    public init(_ specs: [TokenSpec]) { self.specs = specs }

    public func tokens() async throws -> MintedTokens {
        let task = minting.withLock { task in
            if let task { return task }
            let specs = specs
            let made = Task { try await MintedTokens.mint(specs) }
            task = made
            return made
        }
        return try await task.value
    }
}
