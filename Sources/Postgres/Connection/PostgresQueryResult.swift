/// What one statement returned: its rows and its command tag.
public struct PostgresQueryResult: Sendable, Equatable {
    public var columns: [PostgresColumnDescription]
    public var rows: [PostgresRow]
    /// "INSERT 0 1", "UPDATE 3", "SELECT 2", "BEGIN"…; empty for an empty query.
    public var commandTag: String

    public init(columns: [PostgresColumnDescription] = [], rows: [PostgresRow] = [], commandTag: String) {
        (self.columns, self.rows, self.commandTag) = (columns, rows, commandTag)
    }

    /// The tag's last number for INSERT, UPDATE, DELETE, SELECT, MERGE, MOVE, FETCH and COPY; nil otherwise.
    public var rowsAffected: Int? {
        let words = commandTag.split(separator: " ")
        guard let command = words.first, ["INSERT", "UPDATE", "DELETE", "SELECT", "MERGE", "MOVE", "FETCH", "COPY"].contains(command) else { return nil }
        return words.last.flatMap { Int($0) }
    }
}

/// Collects one request's replies, up to and including its ReadyForQuery (pure; fed messages).
///
/// After an ErrorResponse the server skips to the Sync and answers ReadyForQuery, so the
/// request ends there either way and the connection stays in step for the next one.
struct PostgresReplyCollector {
    private var columns: [PostgresColumnDescription] = []
    private var rows: [PostgresRow] = []
    private(set) var results: [PostgresQueryResult] = []
    /// The server's error, or our failure to decode a row (the first one wins).
    private(set) var failure: (any Error)?

    /// Returns the transaction status once ReadyForQuery arrives; nil while more is expected.
    /// Asynchronous messages (notifications, notices, parameter changes) are the caller's.
    mutating func receive(_ message: PostgresBackendMessage) throws(PostgresConnectionError) -> PostgresTransactionStatus? {
        switch message {
        case .parseComplete, .bindComplete, .closeComplete, .parameterDescription, .noData, .portalSuspended:
            return nil
        case .rowDescription(let description):
            columns = description
            rows = []
        case .dataRow(let values):
            guard failure == nil else { return nil }
            do {
                rows.append(try PostgresRow(columns: columns, dataRow: values))
            } catch let error as PostgresDecodingError {
                failure = PostgresConnectionError.decoding(error)
            } catch {
                throw .protocolViolation("a DataRow does not match its RowDescription")
            }
        case .commandComplete(let tag):
            results.append(PostgresQueryResult(columns: columns, rows: rows, commandTag: tag))
            (columns, rows) = ([], [])
        case .emptyQueryResponse:
            results.append(PostgresQueryResult(commandTag: ""))
        case .errorResponse(let error):
            if failure == nil { failure = error }
        case .readyForQuery(let status):
            return status
        default:
            throw .protocolViolation("unexpected message in a query's replies: \(message)")
        }
        return nil
    }
}

/// Which result columns to ask for in binary: those whose binary form the value codec decodes.
/// The server sends binary only for what Bind asked, so the formats come from the column types
/// this SQL returned the last time (`PostgresConnection` remembers them); a first run is text.
enum PostgresResultFormats {
    static let binaryDecodable: Set<PostgresOID> = [.bool, .int2, .int4, .int8, .float8, .timestamptz, .bytea, .text, .varchar, .name, .json, .jsonb, .uuid]

    static func formats(for columnTypes: [PostgresOID]) -> [PostgresFormat] {
        columnTypes.map { binaryDecodable.contains($0) ? .binary : .text }
    }
}
