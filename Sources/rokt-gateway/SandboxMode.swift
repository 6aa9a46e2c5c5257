import Gateway
import HTTP
import RoktSandbox
#if canImport(Glibc)
    import Glibc
#endif

/// `rokt-gateway serve --sandbox`: the whole product on one machine with no Rokt account. The
/// sandbox runs in-process on a free loopback port with the demo seed; the gateway points at it
/// and gets a fixed, documented API key so the curl lines of docs/endpoints.md work as written.
///
/// That key is public, so it lives only in this process's memory: it is never written to the
/// database, a database never makes it valid (see `SandboxDemoKey`), and a plain `serve` on the
/// same file does not know it. The gateway listens on loopback unless `--host` says otherwise.
enum SandboxMode {
    static let defaultHost = "127.0.0.1"

    /// `--host ADDRESS` from the arguments after `serve --sandbox`; anything else is a usage error.
    static func host(from options: ArraySlice<String>) throws(SandboxUsageError) -> String {
        var host = defaultHost
        var rest = options.filter { $0 != "--sandbox" }[...]
        while let option = rest.popFirst() {
            guard option == "--host", let value = rest.popFirst(), !value.isEmpty, !value.hasPrefix("-") else {
                throw SandboxUsageError(message: option == "--host" ? "--host needs an address" : "unknown option \(option)")
            }
            host = value
        }
        return host
    }

    static func run(configuration: GatewayConfiguration, host: String) async throws {
        let sandbox = RoktSandbox(configuration: RoktSandbox.Configuration(seed: .demo))
        _ = try sandbox.start(host: "127.0.0.1", port: 0)
        var configuration = configuration
        configuration.host = host
        configuration.server.host = host
        configuration.roktBaseURL = sandbox.baseURL
        configuration.ecommerceBaseURL = sandbox.baseURL
        configuration.roktToken = SandboxDemo.token
        configuration.roktParentAccountId = SandboxDemo.parentAccountId
        configuration.ecommerceApiKey = SandboxDemo.ecommerceApiKey
        configuration.tagId = SandboxDemo.tagId
        configuration.allowPrivateWebhooks = true
        if Environment.current["DATABASE_PATH"] == nil { configuration.databasePath = "./data/sandbox-gateway.sqlite3" }
        // A key of the operator's own (GATEWAY_BOOTSTRAP_API_KEY) is stored as usual; the demo key never is.
        if configuration.bootstrapApiKey == SandboxDemoKey.material { configuration.bootstrapApiKey = nil }
        let apiKey = configuration.bootstrapApiKey ?? SandboxDemoKey.material
        let app = try await GatewayApp(configuration: configuration)
        let signals = SignalWaiter(for: [SIGTERM, SIGINT])
        if configuration.bootstrapApiKey == nil {
            app.services.keyRing.admitForThisProcess(SandboxDemoKey.material, as: SandboxDemoKey.key(now: app.services.clock.nowMillis()))
        }
        let port = try app.start()
        let shownHost = ["::", "0.0.0.0"].contains(host) ? "localhost" : host.contains(":") ? "[\(host)]" : host
        print(
            """
            Rokt sandbox (demo seed) at \(sandbox.baseURL)
            Gateway at http://\(shownHost):\(port)   database \(configuration.databasePath)
            API key (all scopes): \(apiKey)
            Demo merchants: \(SandboxDemo.merchant1), \(SandboxDemo.merchant2), \(SandboxDemo.merchant3)
            Try: curl -s -H 'Authorization: Bearer \(apiKey)' http://\(shownHost):\(port)/v1/merchants/\(SandboxDemo.merchant2)/controls
            """)
        fflush(nil)
        app.services.logger.info("listening", ["port": String(port), "sandbox": sandbox.baseURL])
        await signals.wait()
        await app.drainAndShutdown()
        await sandbox.shutdown()
    }
}

struct SandboxUsageError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
