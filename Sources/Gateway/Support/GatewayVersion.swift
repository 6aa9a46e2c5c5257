import CLinux
import COpenSSL

/// What `rokt-gateway --version` prints: the gateway's release and the toolchain and libraries
/// it was built with and runs on, one per line.
public enum GatewayVersion {
    /// The gateway's release (semantic versioning); bumped when a release is cut.
    public static let string = "0.12.0"

    /// The git revision (`git describe --tags --always --dirty`) of a release built by
    /// deploy/build.sh; nil for other builds (`swift build`, `swift run`), which do not know it.
    public static var revision: String? {
        let revision = String(cString: clinux_source_revision())
        return revision.isEmpty ? nil : revision
    }

    public static var lines: [String] {
        [
            "rokt-gateway \(string)" + (revision.map { " (git \($0))" } ?? ""),
            "swift \(swiftCompiler)",
            "openssl \(String(cString: OpenSSL_version(numericCast(OPENSSL_VERSION))))",
            "sqlite \(GatewayStorage.engineVersion)",
        ]
    }

    /// OpenSSL's version alone (`3.0.15`), for the `rokt_gateway_build_info` label.
    static var openSSL: String { String(cString: OpenSSL_version(numericCast(OPENSSL_VERSION_STRING))) }

    /// The compiler that built this binary; Swift offers it only as compile-time conditions.
    static var swiftCompiler: String {
        #if compiler(>=6.4)
            ">=6.4"
        #elseif compiler(>=6.3)
            "6.3"
        #elseif compiler(>=6.2)
            "6.2"
        #elseif compiler(>=6.1)
            "6.1"
        #else
            "6.0"
        #endif
    }
}
