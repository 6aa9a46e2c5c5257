/// The column names of a result, shared by all its rows (one allocation per statement, not per row).
public final class RowColumns: Sendable {
    public let names: [String]
    private let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        var indexByName: [String: Int] = [:]
        // The first column of a name wins, as in SQLite's own lookups (`SELECT a.id, b.id`).
        for (index, name) in names.enumerated() where indexByName[name] == nil { indexByName[name] = index }
        self.indexByName = indexByName
    }

    public var count: Int { names.count }
    public func index(of name: String) -> Int? { indexByName[name] }
    func name(at index: Int) -> String { names.indices.contains(index) ? names[index] : "#\(index)" }
}

/// One result row, copied out of SQLite: a value type that can leave the connection's thread.
///
/// Read columns by index (from 0) or by name, converted to the type asked for:
/// `let id: Int64 = try row.get("id")`, `let note: String? = try row.get("note")`.
public struct Row: Sendable, CustomStringConvertible {
    public let columns: RowColumns
    public let values: [SQLiteValue]

    init(columns: RowColumns, values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    public var count: Int { values.count }

    /// The raw value of column `index`.
    public subscript(index: Int) -> SQLiteValue { values[index] }

    /// The raw value of the column called `name`, or nil when there is no such column.
    public subscript(name: String) -> SQLiteValue? { columns.index(of: name).map { values[$0] } }

    /// Column `index` converted to `T`; `typeMismatch` when it holds another type (NULL included,
    /// unless `T` is an Optional).
    public func get<T: SQLiteValueConvertible>(_ index: Int, as type: T.Type = T.self) throws -> T {
        guard values.indices.contains(index) else {
            throw StoreError(.columnNotFound, "no column at index \(index) (the row has \(values.count))")
        }
        guard let converted = T(sqliteValue: values[index]) else {
            throw StoreError.typeMismatch(column: columns.name(at: index), found: values[index], expected: T.self, sql: nil)
        }
        return converted
    }

    /// The column called `name` converted to `T`; `columnNotFound` when the result has no such column.
    public func get<T: SQLiteValueConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.index(of: name) else {
            throw StoreError(.columnNotFound, "no column named \(name) (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try get(index, as: type)
    }

    public var description: String {
        "Row(" + zip(columns.names, values).map { "\($0): \($1)" }.joined(separator: ", ") + ")"
    }
}
