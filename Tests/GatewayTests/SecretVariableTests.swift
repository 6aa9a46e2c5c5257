import Foundation
import Testing
@testable import Gateway

/// Every secret may come from NAME or from the file NAME_FILE names; one rule for all of them.
@Suite struct SecretVariableTests {
    static let secrets = ["ROKT_API_TOKEN", "ROKT_ECOMMERCE_API_KEY", "GATEWAY_BOOTSTRAP_API_KEY"]

    final class Scratch: Sendable {
        let directory = NSTemporaryDirectory() + "gateway-secrets-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// Writes `bytes` to a new file and answers its path.
        func file(_ bytes: [UInt8], _ name: String = "secret") -> String {
            let path = directory + "/" + name
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            return path
        }
        func file(_ text: String, _ name: String = "secret") -> String { file(Array(text.utf8), name) }
    }

    static func secret(_ name: String, in configuration: GatewayConfiguration) -> String? {
        switch name {
        case "ROKT_API_TOKEN": configuration.roktToken
        case "ROKT_ECOMMERCE_API_KEY": configuration.ecommerceApiKey
        default: configuration.bootstrapApiKey
        }
    }

    /// The error reading `environment`, which must name `variable` and must not quote `hidden`.
    static func refusal(_ environment: [String: String], naming variable: String, hiding hidden: String? = nil) -> ConfigurationError? {
        do {
            _ = try GatewayConfiguration.fromEnvironment(environment)
            Issue.record("\(environment.keys.sorted()) was accepted")
            return nil
        } catch {
            #expect(error.variable == variable)
            if let hidden { #expect(!error.description.contains(hidden), "\(error)") }
            return error
        }
    }

    @Test(arguments: secrets) func theFileHoldsTheValueLessItsTrailingLineEndings(_ name: String) throws {
        let scratch = try Scratch()
        for (index, content) in ["s3cret-value\n", "s3cret-value\r\n\n", "s3cret-value", "  s3cret-value \n"].enumerated() {
            let path = scratch.file(content, "secret-\(index)")
            let configuration = try GatewayConfiguration.fromEnvironment([name + "_FILE": path])
            #expect(Self.secret(name, in: configuration) == "s3cret-value", "\(content.debugDescription)")
        }
        #expect(Self.secret(name, in: try GatewayConfiguration.fromEnvironment([name: "from-env"])) == "from-env")
        // A blank variable counts as unset (a compose file's `NAME: ""`), so the file is used.
        let path = scratch.file("from-file\n")
        #expect(Self.secret(name, in: try GatewayConfiguration.fromEnvironment([name: " ", name + "_FILE": path])) == "from-file")
    }

    @Test(arguments: secrets) func bothSetIsAnErrorNamingBoth(_ name: String) throws {
        let scratch = try Scratch()
        let error = Self.refusal([name: "direct-secret", name + "_FILE": scratch.file("file-secret\n")], naming: name + "_FILE", hiding: "secret")
        #expect(error?.description == "\(name)_FILE and \(name) are both set; set only one of them")
    }

    @Test(arguments: secrets) func aMissingEmptyOrDirectoryFileIsAnErrorNamingTheVariableAndPath(_ name: String) throws {
        let scratch = try Scratch()
        let missing = scratch.directory + "/absent"
        #expect(Self.refusal([name + "_FILE": missing], naming: name + "_FILE")?.message == "\(missing): cannot be read (No such file or directory)")
        for (index, content) in ["", "\n", "\r\n", " \n"].enumerated() {
            let path = scratch.file(content, "empty-\(index)")
            #expect(Self.refusal([name + "_FILE": path], naming: name + "_FILE")?.message == "\(path) is empty")
        }
        let error = Self.refusal([name + "_FILE": scratch.directory], naming: name + "_FILE")
        #expect(error?.message == "\(scratch.directory): is a directory, not a file")
    }

    @Test(arguments: secrets) func aFileOverTheLimitOrOfSeveralLinesIsRefusedWithoutQuotingIt(_ name: String) throws {
        let scratch = try Scratch()
        let big = scratch.file([UInt8](repeating: UInt8(ascii: "k"), count: SecretFile.limit + 1), "big")
        #expect(Self.refusal([name + "_FILE": big], naming: name + "_FILE")?.message == "\(big): is larger than 64 KiB")
        let atLimit = scratch.file([UInt8](repeating: UInt8(ascii: "k"), count: SecretFile.limit), "at-limit")
        #expect(Self.secret(name, in: try GatewayConfiguration.fromEnvironment([name + "_FILE": atLimit]))?.utf8.count == SecretFile.limit)
        let twoLines = scratch.file("first-part\nsecond-part\n", "two-lines")
        #expect(Self.refusal([name + "_FILE": twoLines], naming: name + "_FILE", hiding: "part") != nil)
        #expect(Self.refusal([name: "first-part\nsecond-part"], naming: name, hiding: "part") != nil)
        let binary = scratch.file([0x61, 0xFF, 0x62], "binary")
        #expect(Self.refusal([name + "_FILE": binary], naming: name + "_FILE")?.message == "\(binary) is not UTF-8 text")
    }

    /// Root reads any file whatever its mode, so the unreadable path here is one under a file.
    @Test func anUnreadableFileIsAnErrorWithTheReason() throws {
        let scratch = try Scratch()
        let path = scratch.file("s3cret\n") + "/inner"
        let error = Self.refusal(["ROKT_API_TOKEN_FILE": path], naming: "ROKT_API_TOKEN_FILE", hiding: "s3cret")
        #expect(error?.message == "\(path): cannot be read (Not a directory)")
    }

    /// `check-config` reads the secrets as `serve` does: it names the file variable, and a
    /// readable one passes.
    @Test func checkConfigReadsTheSecretFiles() async throws {
        let scratch = try Scratch()
        let base = [
            "ROKT_PARENT_ACCOUNT_ID": "acme", "DATABASE_PATH": scratch.directory + "/gateway.sqlite3",
            "GATEWAY_BOOTSTRAP_API_KEY_FILE": scratch.file("rgw_bootstrap-from-a-file\n", "bootstrap"),
            "ROKT_ECOMMERCE_API_KEY_FILE": scratch.file("ecommerce-key\n", "ecommerce"),
        ]
        let good = await OperatorCommands.checkConfig(
            ["check-config"], environment: base.merging(["ROKT_API_TOKEN_FILE": scratch.file("tok\n", "token")]) { $1 })
        #expect(good.status == 0 && good.lines.first == "configuration: ok", "\(good.lines)")
        let missing = scratch.directory + "/no-token"
        let bad = await OperatorCommands.checkConfig(
            ["check-config"], environment: base.merging(["ROKT_API_TOKEN_FILE": missing, "ROKT_ECOMMERCE_API_KEY": "ecommerce-inline"]) { $1 })
        #expect(bad.status == 2)
        #expect(bad.lines.contains("configuration: ROKT_API_TOKEN_FILE \(missing): cannot be read (No such file or directory)"), "\(bad.lines)")
        #expect(
            bad.lines.contains("configuration: ROKT_ECOMMERCE_API_KEY_FILE and ROKT_ECOMMERCE_API_KEY are both set; set only one of them"),
            "\(bad.lines)")
        #expect(!bad.lines.joined().contains("ecommerce-inline") && !bad.lines.joined().contains("ecommerce-key"))
    }
}
