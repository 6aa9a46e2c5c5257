import Postgres
import Testing

@testable import Gateway

/// The statement that sends a batch of notices (their delivery between replicas is in
/// PostgresStoreTests).
struct PostgresNoticeSenderTests {
    @Test func oneStatementNotifiesEveryPayloadAndCommitsWithoutWaitingForTheFlush() {
        let statement = PostgresNoticeSender.statement(["a", "b"])
        #expect(statement.sql == "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2), pg_notify($1, $3)")
        #expect(statement.parameters == [.text(PostgresCommitPayload.channel), .text("a"), .text("b")])
    }
}
