import CSQLite

/// A prepared statement: bind parameters, step through rows, read columns.
///
/// Parameters are numbered from 1 and columns from 0, as in SQLite. A statement obtained from
/// `SQLiteConnection.prepare` belongs to the connection's statement cache: the next `prepare`
/// of the same SQL resets it and clears its bindings, unless it is still in the middle of a
/// result (then that `prepare` gets a separate statement). Step it to the end or `reset()` it
/// when done. Not `Sendable`: it is used on its connection's thread only.
public final class SQLiteStatement {
    public let sql: String
    let handle: OpaquePointer
    private let context: SQLiteConnection.ErrorContext
    private var cachedColumns: RowColumns?

    init(handle: OpaquePointer, sql: String, context: SQLiteConnection.ErrorContext) {
        self.handle = handle
        self.sql = sql
        self.context = context
    }

    // The connection is closed with sqlite3_close_v2, which waits for the last statement: a
    // statement may outlive its connection object safely.
    deinit { sqlite3_finalize(handle) }

    // MARK: Binding

    /// How many parameters (`?`, `?NNN`, `:name`, `@name`, `$name`) the SQL has.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Binds parameter `index` (1-based). Text and blobs are copied by SQLite.
    public func bind(_ value: some SQLiteValueConvertible, at index: Int) throws {
        try bindValue(value.sqliteValue, at: Int32(index))
    }

    /// Binds a named parameter; `name` may carry its prefix (`:id`) or not (`id`, tried as
    /// `:id`, `@id`, `$id`).
    public func bind(_ value: some SQLiteValueConvertible, to name: String) throws {
        try bindValue(value.sqliteValue, at: try parameterIndex(named: name))
    }

    /// Binds parameter `index` to a raw value; also what `bind(nil, at: 1)` calls.
    public func bind(_ value: SQLiteValue, at index: Int) throws {
        try bindValue(value, at: Int32(index))
    }

    /// Binds a named parameter to a raw value; also what `bind(nil, to: "note")` calls.
    public func bind(_ value: SQLiteValue, to name: String) throws {
        try bindValue(value, at: try parameterIndex(named: name))
    }

    /// Binds every parameter by position; their count must match the SQL's.
    public func bind(_ values: [any SQLiteValueConvertible]) throws {
        guard values.count == parameterCount else {
            throw StoreError.misuse("the statement has \(parameterCount) parameters but \(values.count) values were given", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            try bindValue(value.sqliteValue, at: Int32(offset + 1))
        }
    }

    /// Binds named parameters; every parameter of the SQL must be given.
    public func bind(named values: [String: any SQLiteValueConvertible]) throws {
        guard values.count == parameterCount else {
            throw StoreError.misuse("the statement has \(parameterCount) parameters but \(values.count) values were given", sql: sql)
        }
        for (name, value) in values {
            try bindValue(value.sqliteValue, at: try parameterIndex(named: name))
        }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() { sqlite3_clear_bindings(handle) }

    /// Rewinds the statement so it can run again; keeps the bindings. Also ends the implicit
    /// read transaction an unfinished SELECT holds, which is why helpers reset as soon as they are done.
    public func reset() { sqlite3_reset(handle) }

    private func parameterIndex(named name: String) throws -> Int32 {
        if let first = name.first, first == ":" || first == "@" || first == "$" {
            let index = sqlite3_bind_parameter_index(handle, name)
            if index > 0 { return index }
        } else {
            for prefix in [":", "@", "$"] {
                let index = sqlite3_bind_parameter_index(handle, prefix + name)
                if index > 0 { return index }
            }
        }
        throw StoreError.misuse("the statement has no parameter named \(name)", sql: sql)
    }

    private func bindValue(_ value: SQLiteValue, at index: Int32) throws {
        let code: Int32
        switch value {
        case .null:
            code = sqlite3_bind_null(handle, index)
        case .integer(let integer):
            code = sqlite3_bind_int64(handle, index, integer)
        case .real(let real):
            code = sqlite3_bind_double(handle, index, real)
        case .text(var text):
            code = text.withUTF8 { utf8 in
                // A zero-length buffer may have no address; SQLite would read a NULL pointer as NULL.
                guard let base = utf8.baseAddress, utf8.count > 0 else {
                    return sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
                }
                return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                    sqlite3_bind_text64(handle, index, $0, UInt64(utf8.count), csqlite_transient(), UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let bytes):
            code = bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress, raw.count > 0 else { return sqlite3_bind_zeroblob(handle, index, 0) }
                return sqlite3_bind_blob64(handle, index, base, UInt64(raw.count), csqlite_transient())
            }
        }
        if code != SQLITE_OK { throw error(code) }
    }

    // MARK: Stepping

    /// Runs the statement to its next row: true when a row is available to read, false when
    /// the statement is done.
    @discardableResult
    public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code)
        }
    }

    /// Steps to the end, for statements that return no rows; answers `sqlite3_changes`.
    @discardableResult
    func runToCompletion() throws -> Int {
        while try step() {}
        return Int(sqlite3_changes(sqlite3_db_handle(handle)))
    }

    /// True while the statement has stepped and is neither done nor reset (a cursor in use).
    var isBusy: Bool { sqlite3_stmt_busy(handle) != 0 }

    func error(_ code: Int32) -> StoreError {
        let db = sqlite3_db_handle(handle)
        // Extended codes are on, so `code` is usually extended already; prefer the connection's
        // extended code when it agrees, in case the call returned only the primary one.
        let extended = sqlite3_extended_errcode(db)
        let best = extended & 0xFF == code & 0xFF ? extended : code
        return StoreError.sqlite(
            best, message: String(cString: sqlite3_errmsg(db)), sql: sql,
            path: context.path, busyTimeoutMilliseconds: context.busyTimeoutMilliseconds)
    }

    // MARK: Columns

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(at index: Int) -> String {
        String(cString: sqlite3_column_name(handle, Int32(index)))
    }

    /// The index of the first column called `name` (exact spelling, as in the SELECT).
    public func columnIndex(named name: String) throws -> Int {
        guard let index = columns.index(of: name) else {
            throw StoreError(.columnNotFound, "no column named \(name) (columns: \(columns.names.joined(separator: ", ")))", sql: sql)
        }
        return index
    }

    /// True when the current row's column holds NULL.
    public func isNull(at index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    /// The current row's column, in its storage class.
    public func value(at index: Int) -> SQLiteValue {
        let column = Int32(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            // Text first, then its length, as sqlite3_column_bytes documents.
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let blob = sqlite3_column_blob(handle, column) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(handle, column))
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: count)))
        default:
            return .null
        }
    }

    /// The current row's column converted to `T`; throws `typeMismatch` when it holds another
    /// type (NULL included, unless `T` is an Optional).
    public func column<T: SQLiteValueConvertible>(_ index: Int, as type: T.Type = T.self) throws -> T {
        let value = value(at: index)
        guard let converted = T(sqliteValue: value) else {
            throw StoreError.typeMismatch(column: columns.name(at: index), found: value, expected: T.self, sql: sql)
        }
        return converted
    }

    /// The current row's column called `name`, converted to `T`.
    public func column<T: SQLiteValueConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        try column(try columnIndex(named: name), as: type)
    }

    /// The current row, copied out of SQLite.
    public func row() -> Row {
        let columns = columns
        var values: [SQLiteValue] = []
        values.reserveCapacity(columns.count)
        for index in 0..<columns.count { values.append(value(at: index)) }
        return Row(columns: columns, values: values)
    }

    /// Column names, read once per statement and shared by every `Row` it produces.
    var columns: RowColumns {
        let count = columnCount
        if let cachedColumns, cachedColumns.count == count { return cachedColumns }
        let fresh = RowColumns(names: (0..<count).map { columnName(at: $0) })
        cachedColumns = fresh
        return fresh
    }
}

extension StoreError {
    static func typeMismatch(column: String, found: SQLiteValue, expected: Any.Type, sql: String?) -> StoreError {
        StoreError(.typeMismatch, "column \(column) holds \(found.typeName), not convertible to \(expected)", sql: sql)
    }
}
