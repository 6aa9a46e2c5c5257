/// `rokt-gateway keys …` and `rokt-gateway migrate`: they work on DATABASE_PATH while a gateway
/// runs on it (WAL + busy timeout), and key changes reach the running gateway within a second.
public enum AdminCommands {
    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs one command; returns the lines to print on stdout (the new key last).
    public static func run(_ arguments: [String], configuration: GatewayConfiguration, clock: any WallClock = SystemWallClock()) async throws -> [String] {
        guard let command = arguments.first else { throw UsageError(description: "missing command") }
        if configuration.postgres == nil { try FileSystemPaths.ensureParentDirectory(of: configuration.databasePath) }
        // Not exclusive: a gateway may be serving this database meanwhile.
        let store = try await GatewayStorage.open(configuration, exclusive: false)
        do {
            let lines = try await dispatch(command, arguments, configuration: configuration, store: store, clock: clock)
            await store.close()
            return lines
        } catch {
            await store.close()
            throw error
        }
    }

    private static func dispatch(
        _ command: String, _ arguments: [String], configuration: GatewayConfiguration, store: any GatewayStore,
        clock: any WallClock
    ) async throws -> [String] {
        switch command {
        case "migrate":
            let version = try await store.schemaVersion()
            return ["database \(configuration.databaseDescription) is at schema version \(version)"]
        case "keys":
            return try await keys(Array(arguments.dropFirst()), service: ApiKeyService(store: store, clock: clock))
        default:
            throw UsageError(description: "unknown command \(command)")
        }
    }

    static func keys(_ arguments: [String], service: ApiKeyService) async throws -> [String] {
        switch arguments.first {
        case "create":
            var name: String?
            var scopes: Set<Scope> = []
            var merchants: Set<String> = []
            var origins: Set<String> = []
            var publishable = false
            var rest = arguments.dropFirst()
            while let flag = rest.popFirst() {
                if flag == "--publishable" {
                    publishable = true
                    continue
                }
                guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
                switch flag {
                case "--name": name = value
                case "--scope":
                    guard let scope = Scope(rawValue: value) else {
                        throw UsageError(description: "unknown scope \(value) (read, write, webhooks, admin)")
                    }
                    scopes.insert(scope)
                case "--merchant": merchants.insert(value)
                case "--origin": origins.insert(try publishableOrigin(value))
                default: throw UsageError(description: "unknown option \(flag)")
                }
            }
            guard let name, !name.isEmpty else { throw UsageError(description: "keys create needs --name NAME") }
            if publishable {
                guard scopes.isEmpty, merchants.isEmpty else {
                    throw UsageError(description: "a publishable key may only call placements: it takes no --scope or --merchant")
                }
                guard !origins.isEmpty else {
                    throw UsageError(description: "keys create --publishable needs at least one --origin https://shop.example.com")
                }
                let (key, material) = try await service.createPublishable(name: name, origins: origins)
                return [
                    "created \(key.id) (\(key.name)) publishable origins=\(origins.sorted().joined(separator: ","))"
                        + "; the key is shown once (it is safe to embed in pages on those origins):", material,
                ]
            }
            guard origins.isEmpty else { throw UsageError(description: "--origin is for publishable keys: add --publishable") }
            guard !scopes.isEmpty else { throw UsageError(description: "keys create needs at least one --scope") }
            let (key, secret) = try await service.create(name: name, scopes: scopes, merchants: merchants.isEmpty ? nil : merchants)
            return [
                "created \(key.id) (\(key.name)) scopes=\(key.scopes.sorted().map(\.rawValue).joined(separator: ","))"
                    + (key.merchants.map { " merchants=\($0.sorted().joined(separator: ","))" } ?? "")
                    + "; the key is shown once:", secret,
            ]
        case "list":
            let keys = try await service.list()
            return ["ID\tNAME\tKIND\tSCOPES\tMERCHANTS\tORIGINS\tCREATED\tREVOKED"]
                + keys.map { key in
                    let publishable = key.kind == .publishable
                    return [
                        key.id, key.name, key.kind.rawValue, publishable ? "-" : key.scopes.sorted().map(\.rawValue).joined(separator: ","),
                        publishable ? "-" : key.merchants.map { $0.sorted().joined(separator: ",") } ?? "*",
                        key.origins.map { $0.sorted().joined(separator: ",") } ?? "-", Timestamp.format(key.createdAt),
                        key.revokedAt.map(Timestamp.format) ?? "-",
                    ].joined(separator: "\t")
                }
        case "revoke":
            guard arguments.count == 2 else { throw UsageError(description: "keys revoke needs an ID") }
            guard try await service.revoke(id: arguments[1]) else { throw UsageError(description: "no active key \(arguments[1])") }
            return ["revoked \(arguments[1])"]
        default:
            throw UsageError(description: "keys create|list|revoke")
        }
    }

    /// An `--origin`: an origin as CORS_ALLOWED_ORIGINS takes it, and never `*` (a key for any page
    /// would be a key for every page).
    private static func publishableOrigin(_ raw: String) throws -> String {
        guard raw != "*" else { throw UsageError(description: "--origin must name one origin; * is refused") }
        do {
            return try CORSPolicy.origin(parsing: raw)
        } catch {
            throw UsageError(description: "--origin \(error.message)")
        }
    }
}
