import Postgres

extension GatewayConfiguration {
    /// Where the store is, for logs and messages: the SQLite path, or the PostgreSQL connection
    /// without its password.
    public var databaseDescription: String {
        if let postgres { return "postgresql \(postgres)" }
        return databasePath
    }

    /// DATABASE_URL (a libpq URI or keyword/value string) selects PostgreSQL; its password may
    /// come from DATABASE_PASSWORD or DATABASE_PASSWORD_FILE instead of the URL. DATABASE_PATH
    /// is then not used (the container image sets it for the SQLite default).
    static func readDatabase(into configuration: inout GatewayConfiguration, _ reader: EnvironmentReader) throws(ConfigurationError) {
        let password = try reader.secret("DATABASE_PASSWORD")
        guard let url = reader.value("DATABASE_URL") else {
            if password != nil {
                let variable = reader.value("DATABASE_PASSWORD_FILE") != nil ? "DATABASE_PASSWORD_FILE" : "DATABASE_PASSWORD"
                throw ConfigurationError(variable: variable, message: "is set but DATABASE_URL is not (the password is for PostgreSQL)")
            }
            return
        }
        var postgres: PostgresConfiguration
        do { postgres = try PostgresConfiguration(connectionString: url, password: password) } catch {
            // The error names the part that is wrong, never the password; the URL itself is not quoted.
            throw ConfigurationError(variable: "DATABASE_URL", message: error.description)
        }
        if postgres.applicationName == nil { postgres.applicationName = "rokt-gateway" }
        // libpq waits forever by default; a gateway whose database went away should say so.
        if postgres.connectTimeout == nil { postgres.connectTimeout = .seconds(10) }
        configuration.postgres = postgres
        if let count = try reader.integer("DATABASE_MAX_CONNECTIONS", 1...1000, "a number") { configuration.databaseMaxConnections = count }
    }
}
