import Gateway
import HTTP
import RoktSandbox
#if canImport(Glibc)
    import Glibc
#endif

// Argument parsing and wiring only; everything else lives in the Gateway module.
let arguments = Array(CommandLine.arguments.dropFirst())
// Started as rokt-sandbox (a link to this binary, as in the container image), it is the sandbox.
if CommandLine.arguments.first?.split(separator: "/").last == "rokt-sandbox" { SandboxCommand.run(arguments) }
let usage = """
    usage:
      rokt-gateway serve
      rokt-gateway serve --sandbox [--host ADDRESS]   (loopback, 127.0.0.1, unless --host says otherwise)
      rokt-gateway keys create --name NAME --scope read|write|webhooks|admin [--scope …] [--merchant ID …]
      rokt-gateway keys create --publishable --name NAME --origin https://shop.example.com [--origin …]
      rokt-gateway keys list
      rokt-gateway keys revoke ID
      rokt-gateway migrate
      rokt-gateway backup PATH
      rokt-gateway check-config [--probe-upstream]
      rokt-gateway healthcheck   (exit 0 when /readyz on 127.0.0.1:$PORT answers ready)
      rokt-gateway --version
    Configuration comes from the environment (PORT, DATABASE_PATH, ROKT_*, …): see README.md.
    """

func fail(_ message: String, status: Int32 = 1) -> Never {
    var line = Array("rokt-gateway: \(message)\n".utf8)
    line.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}

ProcessMain.run {
    do {
        switch arguments.first {
        case "serve":
            let configuration = try GatewayConfiguration.fromEnvironment(Environment.current)
            if let loops = configuration.eventLoops, !EventLoopGroup.setSharedLoopCount(loops) {
                fail("HTTP_EVENT_LOOPS: the event loops were started before the configuration was read")
            }
            if arguments.dropFirst().contains("--sandbox") {
                let host: String
                do { host = try SandboxMode.host(from: arguments.dropFirst()) } catch { fail("\(error)\n\(usage)", status: 2) }
                try await SandboxMode.run(configuration: configuration, host: host)
            } else {
                guard arguments.count == 1 else { fail("unknown option \(arguments[1])\n\(usage)", status: 2) }
                if let refusal = configuration.plainServeRefusal { fail("\(refusal)") }
                let app = try await GatewayApp(configuration: configuration)
                try await app.runUntilSignalled()
            }
        case "keys", "migrate":
            let configuration = try GatewayConfiguration.fromEnvironment(Environment.current)
            for line in try await AdminCommands.run(arguments, configuration: configuration) { print(line) }
        case "backup":
            let configuration = try GatewayConfiguration.fromEnvironment(Environment.current)
            for line in try OperatorCommands.backup(arguments, configuration: configuration) { print(line) }
        case "check-config":
            let report = await OperatorCommands.checkConfig(arguments, environment: Environment.current)
            for line in report.lines { print(line) }
            exit(report.status)
        case "healthcheck":
            let report = await OperatorCommands.healthcheck(arguments, environment: Environment.current)
            for line in report.lines { print(line) }
            exit(report.status)
        case "--version", "version":
            for line in GatewayVersion.lines { print(line) }
        case "help", "--help", "-h":
            print(usage)
        default:
            fail(usage, status: 2)
        }
    } catch let error as AdminCommands.UsageError {
        fail("\(error)\n\(usage)", status: 2)
    } catch {
        fail("\(error)")
    }
    exit(0)
}
