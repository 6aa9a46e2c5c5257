import JSON

extension WebhookEndpoint {
    /// The keys that sign right now: the current one, and the previous one during its grace period.
    func signingKeys(now: Int64) -> [[UInt8]] {
        guard let previous = previousSecretKey, let expires = previousSecretExpiresAt, now < expires else { return [secretKey] }
        return [secretKey, previous]
    }

    /// The public document: everything but the secrets.
    func document(now: Int64) -> [String: JSONValue] {
        [
            "id": .string(id), "url": .string(url),
            "events": .array((events ?? WebhookEventType.allCases).map { .string($0.rawValue) }),
            "description": description.map(JSONValue.string) ?? .null,
            "createdAt": .string(Timestamp.format(createdAt)), "updatedAt": .string(Timestamp.format(updatedAt)),
            "enabled": .bool(disabledAt == nil),
            "disabledAt": disabledAt.map { .string(Timestamp.format($0)) } ?? .null,
            "disabledReason": disabledReason.map(JSONValue.string) ?? .null,
            "failingSince": failingSince.map { .string(Timestamp.format($0)) } ?? .null,
            "previousSecretExpiresAt": previousSecretExpiresAt.flatMap { $0 > now ? .string(Timestamp.format($0)) : nil } ?? .null,
        ]
    }
}

extension WebhookDeliveryLog {
    /// A delivery with its attempts, as the delivery log shows it.
    var document: JSONValue {
        .object([
            "id": .string(id), "endpointId": .string(endpointId), "eventId": .string(eventId),
            "eventType": .string(eventType), "merchantId": .string(merchantId), "sequence": .number(Double(sequence)),
            "state": .string(state), "attemptCount": .number(Double(attemptCount)),
            "nextAttemptAt": nextAttemptAt.map { .string(Timestamp.format($0)) } ?? .null,
            "createdAt": .string(Timestamp.format(createdAt)), "updatedAt": .string(Timestamp.format(updatedAt)),
            "attempts": .array(
                attempts.map { attempt in
                    .object([
                        "at": .string(Timestamp.format(attempt.at)),
                        "status": attempt.status.map { .number(Double($0)) } ?? .null,
                        "durationMs": .number(Double(attempt.durationMs)),
                        "response": attempt.response.map(JSONValue.string) ?? .null,
                        "error": attempt.error.map(JSONValue.string) ?? .null,
                    ])
                }),
        ])
    }
}
