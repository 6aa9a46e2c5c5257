/// One result row: a DataRow's columns decoded by the RowDescription that preceded it.
///
/// In the extended protocol, the RowDescription to use is the one Describe of the portal
/// returned (it carries the formats Bind asked for); Describe of a statement reports text for
/// every column because the formats are not chosen yet (protocol-flow §"Extended Query").
public struct PostgresRow: Equatable, Sendable {
    public let columns: [PostgresColumnDescription]
    public let values: [PostgresValue]

    /// Throws `PostgresProtocolError.invalidCount` when the row and its description disagree
    /// on the column count (the server broke the protocol), and `PostgresDecodingError` naming
    /// the column for a value that cannot be decoded as its type.
    public init(columns: [PostgresColumnDescription], dataRow: [[UInt8]?]) throws {
        guard dataRow.count == columns.count else { throw PostgresProtocolError.invalidCount(type: UInt8(ascii: "D"), count: dataRow.count) }
        var values: [PostgresValue] = []
        values.reserveCapacity(columns.count)
        for (column, bytes) in zip(columns, dataRow) {
            do {
                values.append(try PostgresValue(decoding: bytes, type: column.dataType, format: column.format))
            } catch {
                var named = error
                named.column = column.name
                throw named
            }
        }
        self.columns = columns
        self.values = values
    }

    public subscript(index: Int) -> PostgresValue { values[index] }

    /// The first column of that name (a query may repeat a name), or nil when there is none.
    public subscript(name: String) -> PostgresValue? {
        columns.firstIndex { $0.name == name }.map { values[$0] }
    }
}
