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
            var rest = arguments.dropFirst()
            while let flag = rest.popFirst() {
                guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
                switch flag {
                case "--name": name = value
                case "--scope":
                    guard let scope = Scope(rawValue: value) else {
                        throw UsageError(description: "unknown scope \(value) (read, write, webhooks, admin)")
                    }
                    scopes.insert(scope)
                case "--merchant": merchants.insert(value)
                default: throw UsageError(description: "unknown option \(flag)")
                }
            }
            guard let name, !name.isEmpty else { throw UsageError(description: "keys create needs --name NAME") }
            guard !scopes.isEmpty else { throw UsageError(description: "keys create needs at least one --scope") }
            let (key, secret) = try await service.create(name: name, scopes: scopes, merchants: merchants.isEmpty ? nil : merchants)
            return [
                "created \(key.id) (\(key.name)) scopes=\(key.scopes.sorted().map(\.rawValue).joined(separator: ","))"
                    + (key.merchants.map { " merchants=\($0.sorted().joined(separator: ","))" } ?? "")
                    + "; the key is shown once:", secret,
            ]
        case "list":
            let keys = try await service.list()
            return ["ID\tNAME\tSCOPES\tMERCHANTS\tCREATED\tREVOKED"]
                + keys.map { key in
                    [
                        key.id, key.name, key.scopes.sorted().map(\.rawValue).joined(separator: ","),
                        key.merchants.map { $0.sorted().joined(separator: ",") } ?? "*", Timestamp.format(key.createdAt),
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
}
