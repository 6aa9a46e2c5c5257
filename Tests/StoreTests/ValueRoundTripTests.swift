import Testing
@testable import Store

@Suite struct ValueRoundTripTests {
    let directory = TemporaryDirectory()

    private func connection() throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: directory.file())
        try connection.execute("CREATE TABLE v (x)")
        return connection
    }

    /// Stores `value` in an untyped column and reads it back as `T`.
    private func roundTrip<T: SQLiteValueConvertible & Equatable>(_ value: T, on connection: SQLiteConnection) throws -> T {
        try connection.run("DELETE FROM v")
        try connection.run("INSERT INTO v (x) VALUES (?)", [value])
        let fromRow: T = try connection.queryOne("SELECT x FROM v")!.get(0)
        let fromStatement = try connection.query("SELECT x FROM v") { try $0.column(0, as: T.self) }
        #expect(fromStatement == [fromRow])
        return fromRow
    }

    @Test func integersRoundTripIncludingTheExtremes() throws {
        let connection = try connection()
        for value: Int64 in [0, 1, -1, Int64.max, Int64.min, 1 << 53 + 1] {
            #expect(try roundTrip(value, on: connection) == value)
        }
        #expect(try roundTrip(Int.max, on: connection) == Int.max)
        #expect(try roundTrip(Int32.min, on: connection) == Int32.min)
    }

    @Test func doublesRoundTripExactly() throws {
        let connection = try connection()
        for value in [0.0, -0.5, 3.141592653589793, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, -.infinity] {
            #expect(try roundTrip(value, on: connection) == value)
        }
    }

    @Test func textRoundTripsUnicodeEmptyAndEmbeddedNUL() throws {
        let connection = try connection()
        for value in ["", "plain", "Zürich 東京 🚀 e\u{301}", "a\u{0}b", String(repeating: "x", count: 100_000)] {
            #expect(try roundTrip(value, on: connection) == value)
        }
        // The empty string stays text, never NULL.
        try connection.run("DELETE FROM v")
        try connection.run("INSERT INTO v (x) VALUES (?)", [""])
        #expect(try connection.queryOne("SELECT typeof(x) FROM v")!.get(0, as: String.self) == "text")
    }

    @Test func blobsRoundTripIncludingEmptyAndZeroBytes() throws {
        let connection = try connection()
        for value: [UInt8] in [[], [0], [0, 255, 0, 1], Array(repeating: 0xAB, count: 1 << 20)] {
            #expect(try roundTrip(value, on: connection) == value)
        }
        try connection.run("DELETE FROM v")
        try connection.run("INSERT INTO v (x) VALUES (?)", [[UInt8]()])
        #expect(try connection.queryOne("SELECT typeof(x) FROM v")!.get(0, as: String.self) == "blob")
    }

    @Test func boolsAreStoredAsOneAndZero() throws {
        let connection = try connection()
        #expect(try roundTrip(true, on: connection) == true)
        #expect(try roundTrip(false, on: connection) == false)
        #expect(try connection.queryOne("SELECT x FROM v")![0] == .integer(0))
    }

    @Test func nullBindsFromNilAndReadsAsNilOrMismatch() throws {
        let connection = try connection()
        let missing: String? = nil
        try connection.run("INSERT INTO v (x) VALUES (?), (?)", [missing, SQLiteValue.null])
        let rows = try connection.query("SELECT x FROM v")
        #expect(rows.map { $0[0] } == [.null, .null])
        #expect(try rows[0].get(0, as: String?.self) == nil)
        #expect(try rows[0].get(0, as: Int64?.self) == nil)
        let error = #expect(throws: StoreError.self) { try rows[0].get(0, as: String.self) }
        #expect(error?.kind == .typeMismatch)
    }

    @Test func optionalsBindTheirWrappedValue() throws {
        let connection = try connection()
        let some: Int64? = 42
        #expect(try roundTrip(some, on: connection) == 42)
    }

    @Test func aColumnOfAnotherTypeIsATypeMismatchNamingTheColumn() throws {
        let connection = try connection()
        try connection.run("INSERT INTO v (x) VALUES ('text')")
        let error = #expect(throws: StoreError.self) { try connection.queryOne("SELECT x AS label FROM v")!.get("label", as: Int64.self) }
        #expect(error?.kind == .typeMismatch)
        #expect(error?.message.contains("label") == true)
        #expect(error?.message.contains("TEXT") == true)
    }

    @Test func namedParametersBindWithOrWithoutTheirPrefix() throws {
        let connection = try connection()
        try connection.execute("CREATE TABLE pair (a, b)")
        try connection.run("INSERT INTO pair VALUES (:a, @b)", named: [":a": 1, "b": "two"])
        let statement = try connection.prepare("INSERT INTO pair VALUES ($a, :b)")
        try statement.bind(3, to: "a")
        try statement.bind("four", to: ":b")
        #expect(try statement.step() == false)
        let rows = try connection.query("SELECT a, b FROM pair ORDER BY a")
        #expect(rows.map { $0.values } == [[1, "two"], [3, "four"]])
        let error = #expect(throws: StoreError.self) { try connection.run("INSERT INTO pair VALUES (:a, :b)", named: [":a": 1, ":c": 2]) }
        #expect(error?.kind == .misuse)
    }

    @Test func aStatementBindsNilAndReadsColumnsByName() throws {
        let connection = try connection()
        let insert = try connection.prepare("INSERT INTO v (x) VALUES (:x)")
        try insert.bind(nil, to: "x")
        try insert.step()
        let select = try connection.prepare("SELECT x AS value, typeof(x) AS type FROM v")
        #expect(try select.step())
        #expect(try select.column("value", as: Int?.self) == nil)
        #expect(try select.column("type", as: String.self) == "null")
        #expect(select.isNull(at: 0))
        #expect(try select.columnIndex(named: "type") == 1)
        #expect(try select.step() == false)
        let error = #expect(throws: StoreError.self) { try select.columnIndex(named: "nope") }
        #expect(error?.kind == .columnNotFound)
    }

    @Test func aWrongNumberOfBindingsIsMisuse() throws {
        let connection = try connection()
        let error = #expect(throws: StoreError.self) { try connection.run("INSERT INTO v (x) VALUES (?)", []) }
        #expect(error?.kind == .misuse)
        #expect(error?.sql == "INSERT INTO v (x) VALUES (?)")
    }

    @Test func rowsReadColumnsByName() throws {
        let connection = try connection()
        try connection.run("INSERT INTO v (x) VALUES (7)")
        let row = try #require(try connection.queryOne("SELECT x AS seven, 'x' AS letter FROM v"))
        #expect(try row.get("seven", as: Int.self) == 7)
        #expect(row["letter"] == .text("x"))
        #expect(row["absent"] == nil)
        let error = #expect(throws: StoreError.self) { try row.get("absent", as: Int.self) }
        #expect(error?.kind == .columnNotFound)
        #expect(try connection.queryOne("SELECT x FROM v WHERE x = ?", [8]) == nil)
    }

    @Test func rawRepresentableTypesConvertThroughTheirRawValue() throws {
        enum State: String, SQLiteValueConvertible { case queued, running }
        let connection = try connection()
        #expect(try roundTrip(State.running, on: connection) == .running)
        try connection.run("UPDATE v SET x = 'unknown'")
        #expect(throws: StoreError.self) { try connection.queryOne("SELECT x FROM v")!.get(0, as: State.self) }
    }

    @Test func lastInsertRowIdAndChangesReportTheLastStatement() throws {
        let connection = try connection()
        try connection.run("INSERT INTO v (x) VALUES (1)")
        try connection.run("INSERT INTO v (x) VALUES (2)")
        #expect(connection.lastInsertRowId == 2)
        #expect(try connection.run("UPDATE v SET x = x + 1") == 2)
        #expect(connection.changes == 2)
    }
}
