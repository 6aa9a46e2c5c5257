import JSON

/// A JWK Set (RFC 7517 §5) read into verification keys. Keys that cannot serve are skipped with
/// a reason, and the rest of the set still loads: an issuer adding a key type we do not know must
/// not lock every user out.
public struct JSONWebKeySet: Sendable {
    public let keys: [VerificationKey]
    /// Each skipped key's `kid` (or its position) and why.
    public let skipped: [(key: String, reason: String)]

    /// A fetched set is larger than any real issuer's; this bounds parsing and memory.
    public static let maxKeys = 100

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(keys: [VerificationKey]) {
        self.keys = keys
        skipped = []
    }

    /// `allowSharedSecrets`: `oct` keys become HS256 secrets. Only for a set the operator wrote;
    /// a set fetched from an issuer is public, so a secret in it would be no secret.
    public init(parsing bytes: [UInt8], allowSharedSecrets: Bool = false) throws(Failure) {
        guard let document = try? JSONParser.parse(bytes), let entries = document["keys"]?.arrayValue else {
            throw Failure(description: "is not a JWK Set (a JSON object with a \"keys\" array)")
        }
        guard entries.count <= Self.maxKeys else { throw Failure(description: "has more than \(Self.maxKeys) keys") }
        var keys: [VerificationKey] = []
        var skipped: [(String, String)] = []
        for (index, entry) in entries.enumerated() {
            let name = entry["kid"]?.stringValue ?? "#\(index)"
            switch JSONWebKey.read(entry, allowSharedSecrets: allowSharedSecrets) {
            case .success(let key): keys.append(key)
            case .failure(let skip): skipped.append((name, skip.reason))
            }
        }
        self.keys = keys
        self.skipped = skipped
    }
}

/// One JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) read into a `VerificationKey`.
enum JSONWebKey {
    struct Skip: Error {
        let reason: String
    }

    static func read(_ entry: JSONValue, allowSharedSecrets: Bool) -> Result<VerificationKey, Skip> {
        do throws(Skip) { return .success(try key(entry, allowSharedSecrets: allowSharedSecrets)) } catch { return .failure(error) }
    }

    private static func key(_ entry: JSONValue, allowSharedSecrets: Bool) throws(Skip) -> VerificationKey {
        guard let object = entry.objectValue else { throw Skip(reason: "is not a JSON object") }
        guard let kty = object["kty"]?.stringValue else { throw Skip(reason: "has no kty") }
        if let use = object["use"] {
            guard use.stringValue == "sig" else { throw Skip(reason: "is not for signatures (use)") }
        }
        if let operations = object["key_ops"] {
            guard operations.arrayValue?.contains(.string("verify")) == true else { throw Skip(reason: "is not for verification (key_ops)") }
        }
        let id = object["kid"]?.stringValue
        var algorithm: JWSAlgorithm?
        if let alg = object["alg"] {
            guard let name = alg.stringValue, let known = JWSAlgorithm(rawValue: name) else { throw Skip(reason: "has an unsupported alg") }
            algorithm = known
        }
        let made: VerificationKey
        switch kty {
        case "RSA":
            let (n, e) = (try bytes(object, "n"), try bytes(object, "e"))
            made = try accepted { () throws(VerificationKey.Failure) in try .rsa(id: id, modulus: n, exponent: e, algorithm: algorithm) }
        case "EC":
            guard object["crv"]?.stringValue == "P-256" else { throw Skip(reason: "is on an unsupported curve") }
            let (x, y) = (try bytes(object, "x", count: 32), try bytes(object, "y", count: 32))
            made = try accepted { () throws(VerificationKey.Failure) in try .p256(id: id, x: x, y: y, algorithm: algorithm) }
        case "OKP":
            guard object["crv"]?.stringValue == "Ed25519" else { throw Skip(reason: "is on an unsupported curve") }
            let x = try bytes(object, "x", count: 32)
            made = try accepted { () throws(VerificationKey.Failure) in try .ed25519(id: id, x: x, algorithm: algorithm) }
        case "oct":
            guard allowSharedSecrets else { throw Skip(reason: "is a shared secret, accepted only from configuration") }
            let k = try bytes(object, "k")
            made = try accepted { () throws(VerificationKey.Failure) in try .sharedSecret(id: id, k) }
        default:
            throw Skip(reason: "has an unsupported kty")
        }
        // `alg` pins the key to one algorithm, which must be one its type can verify.
        if let algorithm, algorithm.keyKind != made.kind { throw Skip(reason: "has an alg that does not match its kty") }
        return made
    }

    private static func accepted(_ make: () throws(VerificationKey.Failure) -> VerificationKey) throws(Skip) -> VerificationKey {
        do { return try make() } catch { throw Skip(reason: error.description) }
    }

    private static func bytes(_ object: [String: JSONValue], _ member: String, count: Int? = nil) throws(Skip) -> [UInt8] {
        guard let text = object[member]?.stringValue, let bytes = Base64URL.decode(text), !bytes.isEmpty else {
            throw Skip(reason: "has no valid \(member)")
        }
        if let count, bytes.count != count { throw Skip(reason: "has a \(member) that is not \(count) bytes") }
        return bytes
    }
}
