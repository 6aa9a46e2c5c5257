import Testing
@testable import Postgres

/// A DataRow decoded by its RowDescription's types and formats.
@Suite struct PostgresRowTests {
    typealias B = WireBytes

    static let columns = [
        PostgresColumnDescription(name: "id", dataType: .int8, format: .binary),
        PostgresColumnDescription(name: "doc", dataType: .jsonb, format: .binary),
        PostgresColumnDescription(name: "at", dataType: .timestamptz, format: .text),
        PostgresColumnDescription(name: "gone", dataType: .text, format: .text),
    ]

    @Test func columnsDecodeByTheirTypeAndFormat() throws {
        let row = try PostgresRow(columns: Self.columns, dataRow: [B.hex("00 00 00 00 00 00 00 07"), [1] + B.ascii("{}"), B.ascii("2000-01-01 00:00:00+00"), nil])
        #expect(row.values == [.int64(7), .json("{}"), .timestamp(PostgresTimestamp(microsecondsSince2000: 0)), .null])
        #expect(row["doc"] == .json("{}"))
        #expect(row[3] == .null)
        #expect(row["missing"] == nil)
    }

    @Test func aColumnCountMismatchIsAProtocolError() {
        #expect(throws: PostgresProtocolError.invalidCount(type: 0x44, count: 1)) { try PostgresRow(columns: Self.columns, dataRow: [nil]) }
    }

    @Test func aBadValueNamesItsColumnButNotItsBytes() {
        #expect(throws: PostgresDecodingError(type: .timestamptz, format: .text, reason: "not an ISO timestamptz (DateStyle must be ISO)", column: "at")) {
            try PostgresRow(columns: Self.columns, dataRow: [B.hex("00 00 00 00 00 00 00 07"), [1], B.ascii("Sat Dec 05 07:24:30 2026 UTC"), nil])
        }
    }
}
