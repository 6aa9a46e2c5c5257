import HTTP
import JSON
import Rokt

/// `rokt-gateway backup PATH`, `rokt-gateway check-config [--probe-upstream]` and
/// `rokt-gateway healthcheck`: what an operator (or a container runtime) runs beside or before a
/// serving gateway. None migrates the database.
public enum OperatorCommands {
    /// Lines to print and the exit status.
    public struct Report: Sendable, Equatable {
        public var lines: [String]
        public var status: Int32
    }

    /// Copies DATABASE_PATH's database to `PATH` (see `GatewayStorage.backup`).
    public static func backup(_ arguments: [String], configuration: GatewayConfiguration) throws -> [String] {
        guard arguments.count == 2, !arguments[1].isEmpty, !arguments[1].hasPrefix("-") else {
            throw AdminCommands.UsageError(description: "backup needs one PATH (a file that does not exist yet)")
        }
        if configuration.postgres != nil {
            throw AdminCommands.UsageError(
                description: "backup copies the SQLite file at DATABASE_PATH; with DATABASE_URL (PostgreSQL) use pg_dump or the database's own backups")
        }
        try GatewayStorage.backup(databaseAt: configuration.databasePath, to: arguments[1])
        return ["backed up \(configuration.databasePath) to \(arguments[1])"]
    }

    /// Validates the environment as `serve` reads it (status 2 on an error), then the database's
    /// schema version (status 1 when behind or ahead of this build), then, with
    /// `--probe-upstream`, one account-list read from Rokt (status 1 when it fails).
    public static func checkConfig(_ arguments: [String], environment: [String: String]) async -> Report {
        let options = arguments.dropFirst()
        if let unknown = options.first(where: { $0 != "--probe-upstream" }) {
            return Report(lines: ["check-config: unknown option \(unknown)"], status: 2)
        }
        let (configuration, errors) = readEveryError(environment)
        guard let configuration, errors.isEmpty else {
            return Report(lines: errors.map { "configuration: \($0)" }, status: 2)
        }
        let credentials: (token: String, parentAccountId: String)
        do { credentials = try configuration.upstreamCredentials() } catch { return Report(lines: ["configuration: \(error)"], status: 2) }
        var report = Report(lines: ["configuration: ok"], status: 0)
        report.add(await database(configuration))
        if options.contains("--probe-upstream") {
            report.add(await probe(configuration, credentials))
        }
        return report
    }

    /// Every variable `serve` would refuse, not only the first: the reader stops at the first
    /// error, so each round sets the variable it named aside and reads again.
    static func readEveryError(_ environment: [String: String]) -> (GatewayConfiguration?, [ConfigurationError]) {
        var remaining = environment
        var errors: [ConfigurationError] = []
        while true {
            do {
                let configuration = try GatewayConfiguration.fromEnvironment(remaining)
                if let refusal = configuration.plainServeRefusal { errors.append(refusal) }
                do { _ = try configuration.upstreamCredentials() } catch { errors.append(error) }
                return (configuration, errors)
            } catch {
                errors.append(error)
                // A variable set aside that is still refused (a required one) ends the search.
                guard remaining.removeValue(forKey: error.variable) != nil else { return (nil, errors) }
            }
        }
    }

    static func database(_ configuration: GatewayConfiguration) async -> Report {
        let path = configuration.databaseDescription
        do {
            let versions = try await GatewayStorage.schemaVersions(configuration)
            guard let current = versions.current else {
                return Report(lines: ["database \(path): not created yet; `serve` creates it at schema version \(versions.expected)"], status: 0)
            }
            if current == versions.expected {
                return Report(lines: ["database \(path): schema version \(current), as expected"], status: 0)
            }
            let remedy = current < versions.expected ? "behind: `rokt-gateway migrate` (or `serve`) migrates it" : "ahead: a newer gateway migrated it"
            return Report(lines: ["database \(path): schema version \(current), expected \(versions.expected); \(remedy)"], status: 1)
        } catch {
            return Report(lines: ["database \(path): \(error)"], status: 1)
        }
    }

    /// One read of the parent account's merchants with the configured token (never printed).
    static func probe(_ configuration: GatewayConfiguration, _ credentials: (token: String, parentAccountId: String)) async -> Report {
        let http = HTTPClient()
        defer { http.shutdown() }
        let rokt = RoktClient(
            configuration: RoktConfiguration(
                baseURL: configuration.roktBaseURL, token: credentials.token, parentAccountId: credentials.parentAccountId,
                requestTimeout: configuration.roktRequestTimeout),
            http: http, now: { SystemWallClock().nowMillis() })
        let outcome = await rokt.listAccounts(limit: 1, cursor: nil)
        switch outcome.result {
        case .success:
            return Report(lines: ["upstream \(configuration.roktBaseURL): ok (account list read)"], status: 0)
        case .failure(let error):
            return Report(lines: ["upstream \(configuration.roktBaseURL): failed: \(error)"], status: 1)
        }
    }
}

extension OperatorCommands {
    /// `rokt-gateway healthcheck`: asks the gateway serving on this host's `PORT` for `/readyz`
    /// (status 0 when it answers 200 ready, 1 otherwise), within `timeout` overall. The image has
    /// no curl, so this is its container HEALTHCHECK (deploy/Containerfile).
    public static func healthcheck(
        _ arguments: [String], environment: [String: String], timeout: Duration = .seconds(3)
    ) async -> Report {
        if let unknown = arguments.dropFirst().first { return Report(lines: ["healthcheck: unknown option \(unknown)"], status: 2) }
        let port: Int
        do { port = try GatewayConfiguration.fromEnvironment(environment).port } catch {
            return Report(lines: ["configuration: \(error)"], status: 2)
        }
        guard port != 0 else { return Report(lines: ["healthcheck: PORT=0 picks a free port at start; set the port serve listens on"], status: 2) }
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = timeout
        configuration.requestTimeout = timeout
        let http = HTTPClient(configuration: configuration)
        defer { http.shutdown() }
        let url = "http://127.0.0.1:\(port)/readyz"
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: timeout)
            return readiness(url: url, status: response.status.code, body: response.body)
        } catch {
            return Report(lines: ["\(url): \(error)"], status: 1)
        }
    }

    /// The verdict on one `/readyz` answer: ready only on 200 with `{"status":"ready"}`; otherwise
    /// the problem's `detail` (what is not ready) when there is one.
    static func readiness(url: String, status: Int, body: [UInt8]) -> Report {
        let document = try? JSONParser.parse(body)
        if status == 200, document?["status"]?.stringValue == "ready" { return Report(lines: ["\(url): ready"], status: 0) }
        let detail = document?["detail"]?.stringValue.map { ": \($0)" } ?? ""
        return Report(lines: ["\(url): not ready (HTTP \(status))\(detail)"], status: 1)
    }
}

extension OperatorCommands.Report {
    /// Appends `other`'s lines; the worse status wins.
    mutating func add(_ other: Self) {
        lines += other.lines
        status = max(status, other.status)
    }
}
