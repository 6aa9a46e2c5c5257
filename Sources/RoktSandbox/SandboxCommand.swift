import HTTP
#if canImport(Glibc)
    import Glibc
#endif

/// The `rokt-sandbox` command: its options, then the sandbox serving until SIGTERM or SIGINT.
/// Both executables run it: `rokt-sandbox`, and `rokt-gateway` when it is started under the name
/// `rokt-sandbox` (the container image ships one binary with both names, deploy/Containerfile).
public enum SandboxCommand {
    static let usage = """
        usage: rokt-sandbox [options]

        A simulated Rokt (Partnerships API + Ecommerce placements) with fault injection.
        Prints its base URL when listening; exits 0 on SIGTERM or SIGINT.

        options:
          --host HOST           address to listen on (default 127.0.0.1; the admin routes have no auth)
          --port N              port (default 8081; 0 picks a free one)
          --seed demo|empty     initial data (default demo: token sandbox-token, parent demo-parent,
                                demo-merchant-1..3; see docs/sandbox.md)
          --latency-ms N        add N ms before every request is processed
          --fail-rate P         answer a fraction P (0 < P <= 1) of requests with --fail-status
          --fail-status S       the status of --fail-rate failures (default 503)
          --fail-path PATTERN   limit --fail-rate to paths matching PATTERN (`*` = one segment,
                                final `**` = the rest), e.g. '/v1/partnership/accounts/*/status'
          --retry-after SECONDS send Retry-After with --fail-rate failures
          --random-seed N       make --fail-rate draws reproducible
          --shapes SHAPES       how successful answers are shaped where Rokt's documents are silent:
                                standard (default: the documented envelope, camelCase), alternative
                                (bare bodies, snake_case, the account list as an array, numbers as
                                strings, all-digit ids as numbers, unknown members), or a JSON object
                                as POST /__sandbox/shapes takes
          --no-admin            do not serve the /__sandbox/ admin routes
          -h, --help            this text

        admin (JSON, loopback only): GET/DELETE /__sandbox/requests, GET/POST/DELETE /__sandbox/faults,
        POST /__sandbox/reset, POST /__sandbox/clock/advance {"seconds": n}, GET /__sandbox/accounts/{id},
        GET/POST /__sandbox/shapes
        """

    /// Parses `arguments` (without the program name) and serves; never returns.
    public static func run(_ arguments: [String]) -> Never {
        let options = Options.parse(arguments)
        let configuration = options.configuration
        let sandbox = RoktSandbox(configuration: configuration)
        if let latency = options.latency, latency > 0 { sandbox.faults.addLatency(milliseconds: latency) }
        if let failRate = options.failRate {
            sandbox.faults.add(
                .status(
                    StatusFault(
                        match: RequestMatcher(path: options.failPath), status: options.failStatus, retryAfterSeconds: options.retryAfter, count: nil, probability: failRate)))
        }

        // Started inside ProcessMain so that the loops' threads inherit its blocked signals, and
        // the signals are caught before the line that says the sandbox is listening.
        ProcessMain.run {
            let signals = SignalWaiter(for: [SIGTERM, SIGINT])
            do {
                try sandbox.start(host: options.host, port: options.port)
            } catch {
                fail("cannot listen on \(options.host):\(options.port): \(error)")
            }
            printLine("rokt-sandbox listening on \(sandbox.baseURL)")
            if configuration.seed == .demo {
                printLine("token \(configuration.token), parent account \(configuration.parentAccountId), merchants demo-merchant-1 demo-merchant-2 demo-merchant-3")
            }
            await signals.wait()
            printLine("rokt-sandbox shutting down")
            await sandbox.shutdown()
            exit(0)
        }
    }

    static func fail(_ message: String) -> Never {
        var line = Array("rokt-sandbox: \(message)\n".utf8)
        line.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
        exit(2)
    }

    static func printLine(_ text: String) {
        print(text)
        fflush(nil)
    }
    /// The command line, parsed.
    struct Options {
        var host = "127.0.0.1"
        var port = 8081
        var configuration = RoktSandbox.Configuration()
        var latency: Int?
        var failRate: Double?
        var failStatus = 503
        var failPath: String?
        var retryAfter: Int?

        static func parse(_ raw: [String]) -> Options {
            var options = Options()
            var arguments = raw[...]
            func value(for option: String) -> String {
                guard let value = arguments.popFirst() else { fail("\(option) needs a value\n\n\(usage)") }
                return value
            }
            func integer(for option: String, in range: ClosedRange<Int>) -> Int {
                let raw = value(for: option)
                guard let number = Int(raw), range.contains(number) else {
                    fail("\(option) must be an integer from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\"")
                }
                return number
            }
            while let argument = arguments.popFirst() {
                switch argument {
                case "--host": options.host = value(for: argument)
                case "--port": options.port = integer(for: argument, in: 0...65535)
                case "--seed":
                    let raw = value(for: argument)
                    guard let seed = SandboxSeed(rawValue: raw) else { fail("--seed must be demo or empty, got \"\(raw)\"") }
                    options.configuration.seed = seed
                case "--latency-ms": options.latency = integer(for: argument, in: 0...60_000)
                case "--fail-rate":
                    let raw = value(for: argument)
                    guard let rate = Double(raw), rate > 0, rate <= 1 else { fail("--fail-rate must be a number in (0, 1], got \"\(raw)\"") }
                    options.failRate = rate
                case "--fail-status": options.failStatus = integer(for: argument, in: 400...599)
                case "--fail-path":
                    let raw = value(for: argument)
                    guard raw.hasPrefix("/") else { fail("--fail-path must start with /, got \"\(raw)\"") }
                    options.failPath = raw
                case "--retry-after": options.retryAfter = integer(for: argument, in: 0...86_400)
                case "--random-seed":
                    let raw = value(for: argument)
                    guard let seed = UInt64(raw) else { fail("--random-seed must be a non-negative integer, got \"\(raw)\"") }
                    options.configuration.randomSeed = seed
                case "--shapes":
                    let raw = value(for: argument)
                    do {
                        options.configuration.responseShapes = try SandboxResponseShapes(argument: raw)
                    } catch {
                        fail("--shapes: \(error.message)")
                    }
                case "--no-admin": options.configuration.adminRoutesEnabled = false
                case "-h", "--help", "help":
                    printLine(usage)
                    exit(0)
                default:
                    fail("unknown option \"\(argument)\"\n\n\(usage)")
                }
            }
            return options
        }
    }

}
