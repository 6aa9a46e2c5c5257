import HTTP

/// The client side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) as PostgreSQL runs it
/// (https://www.postgresql.org/docs/current/sasl-authentication.html): no channel binding
/// (`n,,` / `c=biws`), and an empty user name in the client-first message, because the server
/// takes the user from the startup message.
///
/// A pure state machine: the connection sends `clientFirstMessage()` in SASLInitialResponse,
/// passes AuthenticationSASLContinue's data to `clientFinalMessage(serverFirstMessage:)` and
/// sends the result in SASLResponse, then passes AuthenticationSASLFinal's data to
/// `verifyServerFinalMessage(_:)`. Only after that succeeds may it accept AuthenticationOk:
/// a server that cannot prove it knows the password is not the server we meant.
public struct SCRAMSHA256Client: Sendable {
    /// The SASL mechanism name, as listed in AuthenticationSASL.
    public static let mechanism = "SCRAM-SHA-256"
    /// RFC 7677 §4: at least 4096 iterations. PostgreSQL's default `scram_iterations` is 4096.
    public static let minimumIterations = 4096
    /// A server could demand billions of PBKDF2 rounds to pin our CPU; no real one asks this many.
    public static let maximumIterations = 10_000_000

    private enum State: Sendable {
        case initial
        case sentClientFirst(clientFirstBare: String)
        case sentClientFinal(expectedServerSignature: [UInt8])
        case authenticated
        case failed
    }

    private let password: [UInt8]
    private let clientNonce: String
    private let username: String
    private var state = State.initial

    /// `clientNonce` must be printable ASCII without `,` (RFC 5802 §5.1); production uses
    /// `randomClientNonce()`, tests inject a fixed one. `username` is empty for PostgreSQL and
    /// exists for RFC 7677's test vector.
    public init(password: String, clientNonce: String, username: String = "") {
        precondition(!clientNonce.isEmpty && clientNonce.utf8.allSatisfy(Self.isNonceByte), "SCRAM nonce must be printable ASCII without a comma")
        self.password = SASLprep.prepared(password)
        self.clientNonce = clientNonce
        self.username = username
    }

    /// 18 random bytes from OpenSSL's CSPRNG, base64: what libpq sends.
    public static func randomClientNonce() -> String {
        Digest.base64(Digest.randomBytes(18))
    }

    /// `n,,n=<user>,r=<client nonce>`: the SASLInitialResponse data.
    public mutating func clientFirstMessage() -> [UInt8] {
        let bare = "n=\(Self.saslName(username)),r=\(clientNonce)"
        state = .sentClientFirst(clientFirstBare: bare)
        return Array("n,,\(bare)".utf8)
    }

    /// Checks the server-first message (`r=`, `s=`, `i=`) and returns the client-final message
    /// with the proof: the SASLResponse data.
    public mutating func clientFinalMessage(serverFirstMessage: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .sentClientFirst(let clientFirstBare) = state else { throw fail(.outOfOrder) }
        let serverFirst: ServerFirstMessage
        do { serverFirst = try ServerFirstMessage(serverFirstMessage, clientNonce: clientNonce) } catch { throw fail(error) }

        let saltedPassword = Digest.pbkdf2SHA256(password: password, salt: serverFirst.salt, iterations: serverFirst.iterations)
        let clientKey = Digest.hmacSHA256(key: saltedPassword, message: Array("Client Key".utf8))
        let storedKey = Digest.sha256(clientKey)
        let withoutProof = "c=biws,r=\(serverFirst.nonce)"
        let authMessage = Array("\(clientFirstBare),\(serverFirst.text),\(withoutProof)".utf8)
        let clientSignature = Digest.hmacSHA256(key: storedKey, message: authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = Digest.hmacSHA256(key: saltedPassword, message: Array("Server Key".utf8))
        state = .sentClientFinal(expectedServerSignature: Digest.hmacSHA256(key: serverKey, message: authMessage))
        return Array("\(withoutProof),p=\(Digest.base64(proof))".utf8)
    }

    /// Checks the server-final message: `v=` must be the signature only a holder of the
    /// password's verifier can compute (compared in constant time); `e=` is the server's refusal.
    public mutating func verifyServerFinalMessage(_ serverFinalMessage: [UInt8]) throws(SCRAMError) {
        guard case .sentClientFinal(let expected) = state else { throw fail(.outOfOrder) }
        guard let text = String(validating: serverFinalMessage, as: UTF8.self), let first = text.split(separator: ",", omittingEmptySubsequences: false).first
        else { throw fail(.malformedServerMessage("the server-final message is not UTF-8")) }
        if first.hasPrefix("e=") { throw fail(.serverError(String(first.dropFirst(2)))) }
        guard first.hasPrefix("v=") else { throw fail(.malformedServerMessage("the server-final message has no v= attribute")) }
        guard let signature = Digest.base64Decoded(first.dropFirst(2)) else {
            throw fail(.malformedServerMessage("the server signature (v=) is not base64"))
        }
        guard Digest.constantTimeEquals(signature, expected) else { throw fail(.serverSignatureMismatch) }
        state = .authenticated
    }

    /// True once the server proved it knows the password.
    public var isAuthenticated: Bool {
        if case .authenticated = state { true } else { false }
    }

    private mutating func fail(_ error: SCRAMError) -> SCRAMError {
        state = .failed
        return error
    }

    /// RFC 5802 `saslname`: `=` and `,` escaped as `=3D` and `=2C`.
    private static func saslName(_ name: String) -> String {
        name.replacing("=", with: "=3D").replacing(",", with: "=2C")
    }

    /// RFC 5802 `printable`: %x21-2B / %x2D-7E.
    static func isNonceByte(_ byte: UInt8) -> Bool { (0x21...0x7E).contains(byte) && byte != UInt8(ascii: ",") }
}

/// `[m=…,]r=<nonce>,s=<salt>,i=<count>[,extensions]` (RFC 5802 §7), checked.
private struct ServerFirstMessage {
    let text: String
    let nonce: String
    let salt: [UInt8]
    let iterations: Int

    init(_ bytes: [UInt8], clientNonce: String) throws(SCRAMError) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformedServerMessage("the server-first message is not UTF-8") }
        let attributes = text.split(separator: ",", omittingEmptySubsequences: false)
        if attributes.first?.hasPrefix("m=") == true { throw .unsupportedMandatoryExtension }
        guard attributes.count >= 3 else { throw .malformedServerMessage("the server-first message needs r=, s= and i=") }
        let nonce = try Self.value("r", of: attributes[0])
        guard nonce.utf8.allSatisfy(SCRAMSHA256Client.isNonceByte) else { throw .malformedServerMessage("the nonce (r=) has characters outside printable ASCII") }
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else { throw .nonceMismatch }
        guard let salt = Digest.base64Decoded(try Self.value("s", of: attributes[1])), !salt.isEmpty else {
            throw .malformedServerMessage("the salt (s=) is not non-empty base64")
        }
        let count = try Self.value("i", of: attributes[2])
        guard !count.isEmpty, count.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .malformedServerMessage("the iteration count (i=) is not a decimal number")
        }
        // Too many digits for Int is as out of range as any other huge count.
        let iterations = Int(count) ?? Int.max
        guard (SCRAMSHA256Client.minimumIterations...SCRAMSHA256Client.maximumIterations).contains(iterations) else {
            throw .iterationCountOutOfRange(iterations)
        }
        (self.text, self.nonce, self.salt, self.iterations) = (text, String(nonce), salt, iterations)
    }

    private static func value(_ name: Character, of attribute: Substring) throws(SCRAMError) -> Substring {
        guard attribute.count >= 2, attribute.first == name, attribute.dropFirst().first == "=" else {
            throw .malformedServerMessage("expected the \(name)= attribute in the server-first message")
        }
        return attribute.dropFirst(2)
    }
}

/// Why SCRAM authentication stopped. None carries the password or a key.
public enum SCRAMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A server message broke RFC 5802's grammar; the text says which part.
    case malformedServerMessage(String)
    /// The server's nonce does not extend ours: a replayed or forged exchange.
    case nonceMismatch
    case iterationCountOutOfRange(Int)
    /// The server sent `m=`, a mandatory extension we do not know (RFC 5802 §5.1).
    case unsupportedMandatoryExtension
    /// `e=` in the server-final message (e.g. `invalid-proof`).
    case serverError(String)
    /// The server's `v=` is not what the password gives: it does not know the password.
    case serverSignatureMismatch
    /// A message arrived in a state that does not expect it.
    case outOfOrder

    public var description: String {
        switch self {
        case .malformedServerMessage(let detail): "SCRAM: malformed server message: \(detail)"
        case .nonceMismatch: "SCRAM: the server's nonce does not start with the client's"
        case .iterationCountOutOfRange(let count):
            "SCRAM: the server asks for \(count) iterations; \(SCRAMSHA256Client.minimumIterations)...\(SCRAMSHA256Client.maximumIterations) accepted"
        case .unsupportedMandatoryExtension: "SCRAM: the server requires an extension (m=) this client does not support"
        case .serverError(let message): "SCRAM: the server refused the authentication: \(message)"
        case .serverSignatureMismatch: "SCRAM: the server's signature is wrong; it does not know the password"
        case .outOfOrder: "SCRAM: message out of order"
        }
    }
}

/// SASLprep (RFC 4013) as far as this client goes. Printable ASCII is its own SASLprep output,
/// so such passwords pass through unchanged. Anything else (non-ASCII, control characters) is
/// sent as its UTF-8 bytes, which is what PostgreSQL does when a password is not valid SASLprep
/// input; a non-ASCII password that SASLprep would change (NFKC normalisation, non-ASCII spaces,
/// soft hyphens) is therefore refused by the server. Use ASCII or NFKC-normalised passwords.
enum SASLprep {
    static func prepared(_ password: String) -> [UInt8] { Array(password.utf8) }
}
