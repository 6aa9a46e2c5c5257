import Postgres

/// `OperationStore.finish` on PostgreSQL.
enum PostgresEndings {
    /// Ends operations: the terminal state is never overwritten, and an ending's redaction and
    /// events are recorded only by the call that ends it; `.operationsEnded` once committed.
    static func finish(_ endings: EncodedEndings, now: Int64, in db: PostgresConnection, notices: PostgresCommitNotices) async throws {
        guard !endings.rows.isEmpty else { return }
        var resultIds: [Int64] = []
        for result in endings.results { resultIds.append(try await PostgresOperationRecords.insertResult(result, in: db)) }
        // Most gateways have no endpoint: their endings build and record no event.
        let recordsEvents = try await PostgresWebhookRecords.anyEnabledEndpoint(in: db)
        var ended = try await PostgresOperationRecords.finish(endings.rows, resultIds: resultIds, now: now, in: db)
        for row in endings.rows where ended.remove(row.id) != nil {
            if let redacted = row.redactedIntent { try await PostgresOperationRecords.redactPrivacyRequest(row.id, redacted: redacted, in: db) }
            if recordsEvents { for event in row.events() { _ = try await PostgresWebhookRecords.record(event, at: now, in: db, notices: notices) } }
        }
        notices.append(.operationsEnded(endings.rows.map(\.id)))
    }
}
