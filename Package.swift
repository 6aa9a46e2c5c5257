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
        .target(name: "HTTP", dependencies: ["CLinux", "COpenSSL"]),
        .target(name: "Store", dependencies: ["CSQLite"]),
        .target(name: "Rokt", dependencies: ["HTTP"]),
        .target(name: "RoktSandbox", dependencies: ["HTTP"]),
        .target(name: "Gateway", dependencies: ["HTTP", "Store", "Rokt", "COpenSSL"]),
        .executableTarget(name: "rokt-gateway", dependencies: ["Gateway", "RoktSandbox"]),
        .executableTarget(name: "rokt-sandbox", dependencies: ["RoktSandbox"]),
        // Test support: child processes via posix_spawn (Foundation's Process can crash on Linux).
        .target(name: "ChildProcess", path: "Tests/ChildProcess"),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "ChildProcess"]),
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        .testTarget(name: "RoktTests", dependencies: ["Rokt", "RoktSandbox", "HTTP"]),
        .testTarget(name: "RoktSandboxTests", dependencies: ["RoktSandbox", "HTTP", "ChildProcess"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "RoktSandbox", "Store", "Rokt", "HTTP", "ChildProcess"]),
    ],
    swiftLanguageModes: [.v6]
)
