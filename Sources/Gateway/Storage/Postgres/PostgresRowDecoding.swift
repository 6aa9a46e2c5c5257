import JSON
import Postgres

/// A column missing from a row, or holding another type than the code reads (a schema and
/// code out of step): names the column, never the value.
struct PostgresColumnMismatch: Error, CustomStringConvertible {
    let column: String
    let expected: String
    var description: String { "column \(column) is missing or not \(expected)" }
}

/// Reading the store's column types (BIGINT, TEXT, BYTEA) by column name.
extension PostgresRow {
    func int64(_ column: String) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw PostgresColumnMismatch(column: column, expected: "a non-NULL integer") }
        return value
    }

    func optionalInt64(_ column: String) throws -> Int64? {
        guard let value = self[column] else { throw PostgresColumnMismatch(column: column, expected: "an integer") }
        if value.isNull { return nil }
        guard let integer = value.int64 else { throw PostgresColumnMismatch(column: column, expected: "an integer") }
        return integer
    }

    func int(_ column: String) throws -> Int { Int(try int64(column)) }

    func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else { throw PostgresColumnMismatch(column: column, expected: "non-NULL text") }
        return value
    }

    func optionalString(_ column: String) throws -> String? {
        guard let value = self[column] else { throw PostgresColumnMismatch(column: column, expected: "text") }
        if value.isNull { return nil }
        guard let text = value.string else { throw PostgresColumnMismatch(column: column, expected: "text") }
        return text
    }

    func bytes(_ column: String) throws -> [UInt8] {
        guard let value = try optionalBytes(column) else { throw PostgresColumnMismatch(column: column, expected: "non-NULL bytes") }
        return value
    }

    func optionalBytes(_ column: String) throws -> [UInt8]? {
        guard let value = self[column] else { throw PostgresColumnMismatch(column: column, expected: "bytes") }
        if value.isNull { return nil }
        guard let bytes = value.bytes else { throw PostgresColumnMismatch(column: column, expected: "bytes") }
        return bytes
    }
}

/// Writing parameters: the store's optionals and widths as `PostgresValue` (nil is NULL).
extension PostgresValue {
    static func nullable(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }
    static func nullable(_ value: Int64?) -> PostgresValue { value.map { .int64($0) } ?? .null }
    static func nullable(_ value: Int?) -> PostgresValue { value.map { .int64(Int64($0)) } ?? .null }
    static func nullable(_ value: [UInt8]?) -> PostgresValue { value.map { .bytes($0) } ?? .null }
    static func int(_ value: Int) -> PostgresValue { .int64(Int64(value)) }
    /// A flag column (BIGINT 0/1, as on SQLite).
    static func flag(_ value: Bool?) -> PostgresValue { value.map { .int64($0 ? 1 : 0) } ?? .null }
}

/// A list of strings as one jsonb parameter, for `column = \(PostgresTextList.any(n))`: one
/// statement text whatever the list's length, so each connection prepares it once (an IN list of
/// one placeholder per value was a new statement, parsed and planned, for every length).
enum PostgresTextList {
    static func any(_ parameter: Int) -> String { "ANY (ARRAY(SELECT jsonb_array_elements_text($\(parameter))))" }
    static func value(_ items: [String]) -> PostgresValue { .json(JSONValue.array(items.map(JSONValue.string)).serialized) }
}

extension PostgresQueryResult {
    /// The rows an UPDATE, DELETE or INSERT touched (0 when the tag says nothing).
    var affected: Int { rowsAffected ?? 0 }
}
