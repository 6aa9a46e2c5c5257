import Testing
@testable import Postgres

/// ErrorResponse fields into PostgresError and SQLState (protocol-error-fields, Appendix A).
@Suite struct PostgresErrorTests {
    typealias B = WireBytes

    static let uniqueViolation: [UInt8] = B.message(
        "E",
        [
            ("S", "ERROR"), ("V", "ERROR"), ("C", "23505"), ("M", "duplicate key value violates unique constraint \"api_keys_pkey\""),
            ("D", "Key (secret)=(sk_live_hunter2) already exists."), ("H", "a hint"), ("P", "12"), ("p", "3"), ("q", "internal query"),
            ("W", "SQL function \"f\" statement 1"), ("s", "public"), ("t", "api_keys"), ("c", "secret"), ("d", "text"), ("n", "api_keys_pkey"),
            ("F", "nbtinsert.c"), ("L", "666"), ("R", "_bt_check_unique"), ("Z", "a field from a later server"),
        ]
        .flatMap { B.ascii($0.0) + B.cString($0.1) } + [0])

    static func decode(_ bytes: [UInt8]) throws -> PostgresError {
        var decoder = PostgresBackendDecoder()
        decoder.append(bytes)
        guard case .errorResponse(let error) = try decoder.next() else { throw PostgresProtocolError.unknownMessageType(0) }
        return error
    }

    @Test func everyFieldIsRead() throws {
        let error = try Self.decode(Self.uniqueViolation)
        #expect(error.sqlState == .uniqueViolation)
        #expect(error.severity == "ERROR")
        #expect(error.message == "duplicate key value violates unique constraint \"api_keys_pkey\"")
        #expect(error.detail == "Key (secret)=(sk_live_hunter2) already exists.")
        #expect(error.hint == "a hint")
        #expect(error.position == 12)
        #expect(error.schema == "public")
        #expect(error.table == "api_keys")
        #expect(error.column == "secret")
        #expect(error.constraint == "api_keys_pkey")
        #expect(error[.internalPosition] == "3")
        #expect(error[.internalQuery] == "internal query")
        #expect(error[.where] == "SQL function \"f\" statement 1")
        #expect(error[.dataType] == "text")
        #expect(error[.file] == "nbtinsert.c")
        #expect(error[.line] == "666")
        #expect(error[.routine] == "_bt_check_unique")
        #expect(error[PostgresError.Field(UInt8(ascii: "Z"))] == "a field from a later server")
    }

    @Test func descriptionNamesTheObjectsButNotTheValues() throws {
        let description = try Self.decode(Self.uniqueViolation).description
        #expect(
            description
                == "ERROR 23505 unique_violation: duplicate key value violates unique constraint \"api_keys_pkey\" (schema public, table api_keys, column secret, constraint api_keys_pkey)"
        )
        #expect(!description.contains("hunter2"))
    }

    @Test func aDataExceptionsMessageIsWithheld() {
        let error = PostgresError(fields: [.severity: "ERROR", .sqlState: "22P02", .message: "invalid input syntax for type uuid: \"sk_live_hunter2\""])
        #expect(!error.description.contains("hunter2"))
        #expect(error.description == "ERROR 22P02: (message withheld: it may quote a value)")
    }

    @Test func theLocalizedSeverityIsTheFallback() {
        #expect(PostgresError(fields: [.localizedSeverity: "FATAL"]).severity == "FATAL")
        #expect(PostgresError(fields: [:]).sqlState == .internalError)
    }

    @Test func sqlStateClassesAndNames() {
        #expect(SQLState.serializationFailure.isRetryable)
        #expect(SQLState.deadlockDetected.isRetryable)
        #expect(!SQLState.uniqueViolation.isRetryable)
        #expect(!SQLState.lockNotAvailable.isRetryable)
        #expect(SQLState("08006").isConnectionException)
        #expect(SQLState("08P01").isConnectionException)
        #expect(!SQLState.adminShutdown.isConnectionException)
        #expect(SQLState.invalidPassword.classCode == "28")
        let named: [(SQLState, String)] = [
            (.uniqueViolation, "23505"), (.foreignKeyViolation, "23503"), (.serializationFailure, "40001"), (.deadlockDetected, "40P01"),
            (.queryCanceled, "57014"), (.adminShutdown, "57P01"), (.cannotConnectNow, "57P03"), (.lockNotAvailable, "55P03"), (.undefinedTable, "42P01"),
            (.duplicateObject, "42710"), (.invalidPassword, "28P01"), (.invalidAuthorizationSpecification, "28000"),
        ]
        for (state, code) in named {
            #expect(state.code == code)
            #expect(state.name != nil)
        }
        #expect(SQLState.deadlockDetected.description == "40P01 deadlock_detected")
        #expect(SQLState("XX001").description == "XX001")
    }
}
