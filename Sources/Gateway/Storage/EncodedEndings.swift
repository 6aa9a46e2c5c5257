/// Operation endings encoded before the write, each distinct result document once, so the
/// transaction (SQLite: the writer thread) only writes. Both stores' `finish` take them.
struct EncodedEndings: Sendable {
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
}
