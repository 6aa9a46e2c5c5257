import ChildProcess
import Testing

@testable import Postgres

/// `PostgresConnection.pipeline`: several extended queries in one round trip, one Sync.
@Suite(.serialized) struct PostgresPipelineTests {
    @Test func statementsRunInOrderAndEachAnswersItsOwnResult() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let table = "p_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.simpleQuery("CREATE TABLE \(table) (id int8 PRIMARY KEY, note text)")
        // Twice: the second run asks for binary columns, remembered per statement of the first.
        for round in 0..<2 {
            let base = Int64(round * 10)
            let results = try await connection.pipeline([
                PostgresStatement("INSERT INTO \(table) VALUES ($1, $2)", [.int64(base + 1), .text("one")]),
                PostgresStatement("INSERT INTO \(table) VALUES ($1, $2), ($3, $4)", [.int64(base + 2), .text("two"), .int64(base + 3), .null]),
                PostgresStatement("SELECT id, note FROM \(table) WHERE id > $1 ORDER BY id", [.int64(base)]),
                PostgresStatement("SELECT $1::int4 AS n", [.int32(7)]),
            ])
            #expect(results.map(\.rowsAffected) == [1, 2, 3, 1])
            #expect(results[2].rows.map { $0["id"] } == [.int64(base + 1), .int64(base + 2), .int64(base + 3)])
            #expect(results[2].rows.map { $0["note"] } == [.text("one"), .text("two"), .null])
            #expect(results[3].rows[0]["n"] == .int32(7))
            #expect(results[2].columns.map(\.format) == (round == 0 ? [.text, .text] : [.binary, .binary]))
            #expect(results[3].columns.map(\.format) == (round == 0 ? [.text] : [.binary]))
        }
        #expect(connection.transactionStatus == .idle)
        try await connection.simpleQuery("DROP TABLE \(table)")
        await connection.close()
    }

    @Test func outsideATransactionAFailureUndoesTheWholePipeline() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let table = "p_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.simpleQuery("CREATE TABLE \(table) (id int8 PRIMARY KEY)")
        let error = await #expect(throws: PostgresError.self) {
            _ = try await connection.pipeline([
                PostgresStatement("INSERT INTO \(table) VALUES ($1)", [.int64(1)]),
                PostgresStatement("INSERT INTO \(table) VALUES ($1)", [.int64(1)]),
                PostgresStatement("INSERT INTO \(table) VALUES ($1)", [.int64(2)]),
            ])
        }
        #expect(error?.sqlState == .uniqueViolation)
        #expect(connection.transactionStatus == .idle)
        #expect(try await connection.query("SELECT count(*) FROM \(table)").rows[0][0] == .int64(0))
        try await connection.simpleQuery("DROP TABLE \(table)")
        await connection.close()
    }

    @Test func insideBeginAFailureLeavesTheTransactionFailedUntilRollback() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let table = "p_\(UInt32.random(in: 0...UInt32.max))"
        try await connection.simpleQuery("CREATE TABLE \(table) (id int8 PRIMARY KEY)")
        let results = try await connection.pipeline([PostgresStatement("BEGIN"), PostgresStatement("INSERT INTO \(table) VALUES ($1)", [.int64(1)])])
        #expect(results.map(\.commandTag) == ["BEGIN", "INSERT 0 1"])
        #expect(connection.transactionStatus == .inTransaction)
        _ = await #expect(throws: PostgresError.self) {
            _ = try await connection.pipeline([PostgresStatement("SELECT 1/0"), PostgresStatement("INSERT INTO \(table) VALUES ($1)", [.int64(2)])])
        }
        #expect(connection.transactionStatus == .failedTransaction)
        try await connection.simpleQuery("ROLLBACK")
        #expect(try await connection.query("SELECT count(*) FROM \(table)").rows[0][0] == .int64(0))
        try await connection.simpleQuery("DROP TABLE \(table)")
        await connection.close()
    }

    @Test func anEmptyPipelineSendsNothing() async throws {
        let connection = try await PostgresConnectionTests.connect()
        #expect(try await connection.pipeline([]).isEmpty)
        #expect(try await connection.query("SELECT 1::int4").rows[0][0] == .int32(1))
        await connection.close()
    }

    @Test func aStatementIsParsedOncePerSessionAndPerParameterTypes() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let sql = "SELECT $1::int8 + 1 AS n"
        for value in [Int64(1), 2, 3] { #expect(try await connection.query(sql, [.int64(value)]).rows[0]["n"] == .int64(value + 1)) }
        #expect(try await connection.query(sql, [.null]).rows[0]["n"] == .null)
        let names = try await connection.query("SELECT name FROM pg_prepared_statements WHERE statement = $1 ORDER BY name", [.text(sql)]).rows
        #expect(names.count == 2)  // one typed int8, one with the type left to the server
        await connection.close()
    }

    @Test func aStatementWhoseFirstRunFailedRunsAgain() async throws {
        let connection = try await PostgresConnectionTests.connect()
        let sql = "SELECT 10 / $1::int4 AS n"
        let error = await #expect(throws: PostgresError.self) { _ = try await connection.query(sql, [.int32(0)]) }
        #expect(error?.sqlState == SQLState("22012"))
        #expect(try await connection.query(sql, [.int32(5)]).rows[0]["n"] == .int32(2))
        #expect(try await connection.query(sql, [.int32(2)]).rows[0]["n"] == .int32(5))
        await connection.close()
    }
}

/// The prepared-statement names a session gives, without a server.
struct PostgresPreparedStatementsTests {
    let key = PostgresPreparedStatements.Key(sql: "SELECT $1", parameterTypes: [.int8])

    @Test func aNameIsReusedOnlyOnceItsParseWasAnswered() {
        var statements = PostgresPreparedStatements()
        #expect(statements.lookup(key) == .parse("gateway_1"))
        #expect(statements.lookup(key) == .parse("gateway_2"))  // the first pipeline has not answered yet
        statements.parsed(key, as: "gateway_2")
        #expect(statements.lookup(key) == .prepared("gateway_2"))
        #expect(statements.lookup(PostgresPreparedStatements.Key(sql: "SELECT $1", parameterTypes: [.unspecified])) == .parse("gateway_3"))
    }

    @Test func pastTheMaximumStatementsRunUnnamed() {
        var statements = PostgresPreparedStatements()
        for index in 0..<PostgresPreparedStatements.maximum {
            let other = PostgresPreparedStatements.Key(sql: "SELECT \(index)", parameterTypes: [])
            guard case .parse(let name) = statements.lookup(other) else { Issue.record("not parsed"); return }
            statements.parsed(other, as: name)
        }
        #expect(statements.lookup(key) == .parse(""))
        #expect(statements.lookup(PostgresPreparedStatements.Key(sql: "SELECT 0", parameterTypes: [])) == .prepared("gateway_1"))
    }
}
