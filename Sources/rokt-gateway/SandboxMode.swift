import Gateway
import HTTP
import RoktSandbox
#if canImport(Glibc)
import Glibc
#endif

/// `rokt-gateway serve --sandbox`: the whole product on one machine with no Rokt account. The
/// sandbox runs in-process on a free loopback port with the demo seed; the gateway points at it
/// and gets a fixed, documented API key so README's curl lines work as written.
enum SandboxMode {
    /// The demo key of sandbox mode (never accepted by a gateway that is not in sandbox mode,
    /// unless someone sets it as GATEWAY_BOOTSTRAP_API_KEY themselves).
    static let demoAPIKey = "rgw_sandbox_demo_key"

    static func run(configuration: GatewayConfiguration) async throws {
        let sandbox = RoktSandbox(configuration: RoktSandbox.Configuration(seed: .demo))
        _ = try sandbox.start(host: "127.0.0.1", port: 0)
        var configuration = configuration
        configuration.roktBaseURL = sandbox.baseURL
        configuration.ecommerceBaseURL = sandbox.baseURL
        configuration.roktToken = SandboxDemo.token
        configuration.roktParentAccountId = SandboxDemo.parentAccountId
        configuration.ecommerceAPIKey = SandboxDemo.ecommerceAPIKey
        configuration.tagId = SandboxDemo.tagId
        configuration.allowPrivateWebhooks = true
        if Environment.current["DATABASE_PATH"] == nil { configuration.databasePath = "./data/sandbox-gateway.sqlite3" }
        let apiKey = configuration.bootstrapAPIKey ?? demoAPIKey
        configuration.bootstrapAPIKey = apiKey
        let app = try await GatewayApp(configuration: configuration)
        let port = try app.start()
        print("""
            Rokt sandbox (demo seed) at \(sandbox.baseURL)
            Gateway at http://localhost:\(port)   database \(configuration.databasePath)
            API key (all scopes): \(apiKey)
            Demo merchants: \(SandboxDemo.merchant1), \(SandboxDemo.merchant2), \(SandboxDemo.merchant3)
            Try: curl -s -H 'Authorization: Bearer \(apiKey)' http://localhost:\(port)/v1/merchants/\(SandboxDemo.merchant2)/controls
            """)
        fflush(nil)
        app.services.logger.info("listening", ["port": String(port), "sandbox": sandbox.baseURL])
        await SignalWaiter.wait(for: [SIGTERM, SIGINT])
        app.services.logger.info("shutting down")
        await app.shutdown()
        await sandbox.shutdown()
    }
}
