import Postgres

/// Operation endings encoded before the transaction, each distinct result document once.
struct PostgresEndings: Sendable {
    struct Row: Sendable {
        var id: String
        var succeeded: Bool
        var changed: Bool?
        /// Index into `results`.
        var result: Int?
        var error: String?
        var redactedIntent: String?
        var events: @Sendable () -> [NewWebhookEvent]
    }
    var results: [String] = []
    var rows: [Row] = []

    init(_ endings: [OperationFinish]) {
        var resultIndex: [String: Int] = [:]
        for ending in endings {
            let slot = ending.result.map { result in
                if let known = resultIndex[result] { return known }
                resultIndex[result] = results.count
                results.append(result)
                return results.count - 1
            }
            rows.append(
                Row(
                    id: ending.id, succeeded: ending.succeeded, changed: ending.changed, result: slot,
                    error: ending.error.map(OperationRecords.json), redactedIntent: ending.redactedIntent.map(OperationRecords.json),
                    events: ending.events))
        }
    }

    /// Ends operations: the terminal state is never overwritten, and an ending's redaction and
    /// events are recorded only by the call that ends it; `.operationsEnded` once committed.
    static func finish(_ endings: PostgresEndings, now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices) async throws {
        guard !endings.rows.isEmpty else { return }
        var resultIds: [Int64] = []
        for result in endings.results { resultIds.append(try await PostgresOperationRecords.insertResult(result, in: db)) }
        // Most gateways have no endpoint: their endings build and record no event.
        let recordsEvents = try await PostgresWebhookRecords.anyEnabledEndpoint(in: db)
        for row in endings.rows {
            guard
                try await PostgresOperationRecords.finish(
                    row.id, succeeded: row.succeeded, changed: row.changed, resultId: row.result.map { resultIds[$0] }, error: row.error,
                    now: now, in: db)
            else { continue }
            if let redacted = row.redactedIntent { try await PostgresOperationRecords.redactPrivacyRequest(row.id, redacted: redacted, in: db) }
            if recordsEvents { for event in row.events() { _ = try await PostgresWebhookRecords.record(event, at: now, in: db, notices: notices) } }
        }
        notices.append(.operationsEnded(endings.rows.map(\.id)))
    }
}
