// swift-tools-version: 6.0
import PackageDescription

// No package dependencies, by design: the toolchain and two system C libraries
// (libsqlite3, OpenSSL 3) are all the gateway is built from.
let package = Package(
    name: "rokt-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rokt-gateway", targets: ["rokt-gateway"]),
        .executable(name: "rokt-sandbox", targets: ["rokt-sandbox"]),
    ],
    dependencies: [],
    targets: [
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // JSON values, parser, writer and field reader: depends on nothing, used by everyone.
        .target(name: "JSON"),
        .target(name: "HTTP", dependencies: ["CLinux", "COpenSSL", "JSON"]),
        // JWS verification, JWK Sets and token claims: pure apart from OpenSSL's arithmetic.
        .target(name: "JWT", dependencies: ["COpenSSL", "JSON"]),
        .target(name: "Store", dependencies: ["CSQLite"]),
        .target(name: "Postgres", dependencies: ["HTTP", "JSON", "COpenSSL"]),
        .target(name: "Rokt", dependencies: ["HTTP", "JSON"]),
        .target(name: "RoktSandbox", dependencies: ["HTTP", "JSON"]),
        .target(name: "Gateway", dependencies: ["HTTP", "JSON", "JWT", "Store", "Postgres", "Rokt", "CLinux", "COpenSSL"]),
        .executableTarget(name: "rokt-gateway", dependencies: ["Gateway", "RoktSandbox"]),
        .executableTarget(name: "rokt-sandbox", dependencies: ["RoktSandbox"]),
        // Test support: child processes via posix_spawn (Foundation's Process can crash on Linux).
        .target(name: "ChildProcess", dependencies: ["CLinux"], path: "Tests/ChildProcess"),
        // Test support: tokens, key sets and a loopback TLS certificate minted by PyJWT and `cryptography`.
        .target(name: "JWTTestSupport", dependencies: ["ChildProcess", "JSON"], path: "Tests/JWTTestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "JWTTests", dependencies: ["JWT", "JSON", "JWTTestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "ChildProcess"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "ChildProcess"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "HTTP", "ChildProcess"]),
        .testTarget(name: "RoktTests", dependencies: ["Rokt", "RoktSandbox", "HTTP", "JSON"]),
        .testTarget(name: "RoktSandboxTests", dependencies: ["RoktSandbox", "HTTP", "JSON", "ChildProcess"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "RoktSandbox", "Store", "Postgres", "Rokt", "HTTP", "JSON", "JWT", "ChildProcess", "JWTTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
