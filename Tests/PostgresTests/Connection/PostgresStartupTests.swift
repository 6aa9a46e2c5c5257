import Testing

@testable import Postgres

/// The startup and authentication exchange fed scripted backend messages: no socket.
@Suite struct PostgresStartupTests {
    static func startup(password: String? = "secret", policy: AuthenticationPolicy = .default, overTLS: Bool = false) -> PostgresStartup {
        PostgresStartup(user: "gateway", password: password, policy: policy, overTLS: overTLS, clientNonce: { "fixednonce" })
    }

    static func sent(_ action: PostgresStartup.Action) throws -> [UInt8] {
        guard case .send(let message) = action else { throw PostgresConnectionError.protocolViolation("expected a message to send, got \(action)") }
        return try message.encoded()
    }

    static func error(_ code: String, severity: String = "FATAL") -> PostgresError {
        PostgresError(fields: [.severity: severity, .sqlState: code, .message: "refused"])
    }

    @Test func trustGoesFromAuthenticationOkToReadyAndKeepsParametersAndTheKey() throws {
        var startup = Self.startup(password: nil)
        guard case .wait = try startup.receive(.authentication(.ok)) else { Issue.record("ok"); return }
        _ = try startup.receive(.parameterStatus(name: "server_version", value: "17.2"))
        _ = try startup.receive(.backendKeyData(processID: 42, secretKey: 7))
        _ = try startup.receive(.noticeResponse(Self.error("01000", severity: "WARNING")))
        guard case .ready(.idle) = try startup.receive(.readyForQuery(.idle)) else { Issue.record("not ready"); return }
        #expect(startup.parameters == ["server_version": "17.2"])
        #expect(startup.backendKey?.processID == 42 && startup.backendKey?.secretKey == 7)
    }

    @Test func trustIsRefusedWhenRequireAuthExcludesIt() throws {
        var startup = Self.startup(policy: try AuthenticationPolicy(requireAuth: "scram-sha-256"))
        #expect {
            _ = try startup.receive(.authentication(.ok))
        } throws: { error in
            if case .authenticationRefused(.notAllowed(.none)) = error as? PostgresConnectionError { true } else { false }
        }
    }

    @Test func scramSendsTheClientFirstAndFinalMessagesAndNeedsTheServerProof() throws {
        var startup = Self.startup()
        let initial = try Self.sent(try startup.receive(.authentication(.sasl(mechanisms: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]))))
        let expected = try PostgresFrontendMessage.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: Array("n,,n=,r=fixednonce".utf8)).encoded()
        #expect(initial == expected)
        let serverFirst = Array("r=fixednonceSERVER,s=c2FsdA==,i=4096".utf8)
        let final = try Self.sent(try startup.receive(.authentication(.saslContinue(data: serverFirst))))
        #expect(String(decoding: final.dropFirst(5), as: UTF8.self).hasPrefix("c=biws,r=fixednonceSERVER,p="))
        // AuthenticationOk without a verified SASLFinal: the server never proved it knows the password.
        #expect {
            _ = try startup.receive(.authentication(.ok))
        } throws: { error in
            if case .scram(.outOfOrder) = error as? PostgresConnectionError { true } else { false }
        }
    }

    @Test func aWrongServerSignatureIsRefused() throws {
        var startup = Self.startup()
        _ = try startup.receive(.authentication(.sasl(mechanisms: ["SCRAM-SHA-256"])))
        _ = try startup.receive(.authentication(.saslContinue(data: Array("r=fixednonceSERVER,s=c2FsdA==,i=4096".utf8))))
        #expect {
            _ = try startup.receive(.authentication(.saslFinal(data: Array("v=AAAA".utf8))))
        } throws: { error in
            if case .scram(.serverSignatureMismatch) = error as? PostgresConnectionError { true } else { false }
        }
    }

    @Test func md5AndCleartextNeedTLSByDefault() throws {
        var plain = Self.startup()
        #expect {
            _ = try plain.receive(.authentication(.md5Password(salt: [1, 2, 3, 4])))
        } throws: { error in
            if case .authenticationRefused(.needsTLS(.md5)) = error as? PostgresConnectionError { true } else { false }
        }
        var overTLS = Self.startup(overTLS: true)
        let md5 = try Self.sent(try overTLS.receive(.authentication(.md5Password(salt: [1, 2, 3, 4]))))
        #expect(md5 == (try PostgresFrontendMessage.password(MD5Password.response(user: "gateway", password: "secret", salt: [1, 2, 3, 4])).encoded()))
        var cleartext = Self.startup(overTLS: true)
        #expect(try Self.sent(try cleartext.receive(.authentication(.cleartextPassword))) == (try PostgresFrontendMessage.password("secret").encoded()))
    }

    @Test func authenticationOkAfterAPasswordIsNotTrust() throws {
        var startup = Self.startup(policy: try AuthenticationPolicy(requireAuth: "md5"))
        _ = try Self.sent(try startup.receive(.authentication(.md5Password(salt: [9, 9, 9, 9]))))
        guard case .wait = try startup.receive(.authentication(.ok)) else { Issue.record("ok after md5"); return }
        _ = try startup.receive(.backendKeyData(processID: 1, secretKey: 2))
        guard case .ready = try startup.receive(.readyForQuery(.idle)) else { Issue.record("not ready"); return }
    }

    @Test func aPasswordRequestWithoutAPasswordFails() throws {
        var startup = Self.startup(password: nil, overTLS: true)
        #expect {
            _ = try startup.receive(.authentication(.cleartextPassword))
        } throws: { error in
            if case .passwordRequired = error as? PostgresConnectionError { true } else { false }
        }
    }

    @Test func anErrorBeforeAuthenticationOkIsAnAuthenticationFailureAndAfterItAStartupFailure() throws {
        var refused = Self.startup()
        #expect {
            _ = try refused.receive(.errorResponse(Self.error("28P01")))
        } throws: { error in
            (error as? PostgresConnectionError)?.sqlState == .invalidPassword && "\(error)".contains("refused the login")
        }
        var noDatabase = Self.startup(password: nil)
        _ = try noDatabase.receive(.authentication(.ok))
        #expect {
            _ = try noDatabase.receive(.errorResponse(Self.error("3D000")))
        } throws: { error in
            if case .startupFailed(let server) = error as? PostgresConnectionError { server.sqlState == SQLState("3D000") } else { false }
        }
    }

    @Test func readyForQueryBeforeAuthenticationIsAProtocolViolation() throws {
        var startup = Self.startup()
        #expect {
            _ = try startup.receive(.readyForQuery(.idle))
        } throws: { error in
            if case .protocolViolation = error as? PostgresConnectionError { true } else { false }
        }
    }

    @Test func unsupportedMethodsAreNamed() throws {
        var startup = Self.startup()
        #expect {
            _ = try startup.receive(.authentication(.unsupported(code: 7)))
        } throws: { error in
            if case .unsupportedAuthentication(code: 7) = error as? PostgresConnectionError { true } else { false }
        }
    }
}

/// One request's replies collected up to ReadyForQuery, decoded from their wire bytes.
@Suite struct PostgresReplyCollectorTests {
    static func feed(_ messages: [PostgresBackendMessage], into collector: inout PostgresReplyCollector) throws -> PostgresTransactionStatus? {
        var decoder = PostgresBackendDecoder()
        for message in messages { decoder.append(try message.encoded()) }
        var status: PostgresTransactionStatus?
        while let message = try decoder.next() { status = try collector.receive(message) }
        return status
    }

    @Test func rowsAndTheCommandTagEndAtReadyForQuery() throws {
        var collector = PostgresReplyCollector()
        let column = PostgresColumnDescription(name: "n", dataType: .int4, dataTypeSize: 4, format: .binary)
        let status = try Self.feed(
            [.parseComplete, .bindComplete, .rowDescription([column]), .dataRow([[0, 0, 0, 7]]), .dataRow([nil]), .commandComplete("SELECT 2"), .readyForQuery(.inTransaction)],
            into: &collector)
        #expect(status == .inTransaction)
        #expect(collector.failure == nil)
        #expect(collector.results.count == 1)
        #expect(collector.results[0].rows.map { $0[0] } == [.int32(7), .null])
        #expect(collector.results[0].rowsAffected == 2)
    }

    @Test func anErrorIsKeptUntilReadyForQuery() throws {
        var collector = PostgresReplyCollector()
        let error = PostgresError(fields: [.severity: "ERROR", .sqlState: "42601", .message: "syntax error"])
        #expect(try Self.feed([.errorResponse(error)], into: &collector) == nil)
        #expect(try Self.feed([.readyForQuery(.idle)], into: &collector) == .idle)
        #expect((collector.failure as? PostgresError)?.sqlState == SQLState("42601"))
    }

    @Test func anUndecodableValueFailsTheQueryButNotTheStream() throws {
        var collector = PostgresReplyCollector()
        let column = PostgresColumnDescription(name: "n", dataType: .int4, format: .binary)
        let status = try Self.feed([.rowDescription([column]), .dataRow([[1, 2, 3]]), .commandComplete("SELECT 1"), .readyForQuery(.idle)], into: &collector)
        #expect(status == .idle)
        guard case .decoding(let error) = collector.failure as? PostgresConnectionError else { Issue.record("no decoding failure"); return }
        #expect(error.column == "n")
    }

    @Test func aMessageThatBelongsToNoQueryIsAProtocolViolation() throws {
        var collector = PostgresReplyCollector()
        #expect(throws: PostgresConnectionError.self) { try collector.receive(.backendKeyData(processID: 1, secretKey: 2)) }
    }

    @Test func rowsAffectedReadsTheTagsLastNumber() {
        #expect(PostgresQueryResult(commandTag: "INSERT 0 3").rowsAffected == 3)
        #expect(PostgresQueryResult(commandTag: "UPDATE 0").rowsAffected == 0)
        #expect(PostgresQueryResult(commandTag: "BEGIN").rowsAffected == nil)
    }
}
