import HTTP
#if canImport(Glibc)
    import Glibc
#endif

/// The one rule for every secret the gateway reads (README "Running against Rokt"): from `NAME`,
/// or from the file `NAME_FILE` names, as Docker and Kubernetes mount secrets.
extension EnvironmentReader {
    /// The secret `name`, or nil when neither variable is set. The file is read here, once.
    /// Errors name the variable (and the path), never the secret.
    func secret(_ name: String) throws(ConfigurationError) -> String? {
        let fileVariable = name + "_FILE"
        guard let path = value(fileVariable) else {
            guard let direct = value(name) else { return nil }
            return try SecretText.checked(direct, variable: name)
        }
        guard value(name) == nil else {
            throw ConfigurationError(variable: fileVariable, message: "and \(name) are both set; set only one of them")
        }
        let bytes: [UInt8]
        do { bytes = try SecretFile.read(path) } catch {
            throw ConfigurationError(variable: fileVariable, message: "\(path): \(error.reason)")
        }
        return try SecretText.checked(SecretText.withoutLineEnding(bytes), variable: fileVariable, path: path)
    }
}

/// What a secret's text must be: one line of UTF-8 without control characters (it goes into
/// HTTP headers and hashes as it is).
enum SecretText {
    /// The file's bytes less the trailing line ending(s) an editor or `echo` adds (`\n`, `\r\n`).
    static func withoutLineEnding(_ bytes: [UInt8]) -> [UInt8] {
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return Array(bytes[..<end])
    }

    static func checked(_ bytes: [UInt8], variable: String, path: String) throws(ConfigurationError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(variable: variable, message: "\(path) is not UTF-8 text")
        }
        guard !text.trimmingHTTPWhitespace().isEmpty else { throw ConfigurationError(variable: variable, message: "\(path) is empty") }
        return try checked(text.trimmingHTTPWhitespace(), variable: variable, where: " in \(path)")
    }

    static func checked(_ text: String, variable: String, where place: String = "") throws(ConfigurationError) -> String {
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ConfigurationError(variable: variable, message: "must be one line without control characters\(place)")
        }
        return text
    }
}

/// A secret file: one line, so 64 KiB is far more than any token or key.
enum SecretFile {
    static let limit = 64 * 1024

    static func read(_ path: String) throws(WholeFile.Failure) -> [UInt8] { try WholeFile.read(path, limit: limit) }
}
