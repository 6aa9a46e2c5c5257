import HTTP
import JSON
import Rokt

/// `POST /v1/privacy-requests` (a consumer's network opt-out or deletion, by identifier) and
/// `POST /v1/merchants/{accountId}/data-deletion-requests` (a merchant's data).
///
/// Consumer identifiers are personal data: they go to Rokt and nowhere else. Logs, the stored
/// operation `request`, and error messages carry only `type` and the SHA-256 of the value.
enum PrivacyRoutes {
    static let requestTypes = ["opt_out", "deletion"]
    static let maxIdentifiers = 100
    /// A privacy request is network-wide: it needs a key without a merchant list.
    static let restrictedKeyRefusal = "This caller is limited to some merchants; network-wide requests need a key or token without a merchant list."

    /// `{requestType: opt_out|deletion, identifiers: [{type, value}]}`, 1 to 100 identifiers.
    static func privacyRequest(_ request: HTTPRequest) throws(Problem) -> (write: SingleWrite, request: JSONValue) {
        var fields = RequestBody.Fields(try RequestBody.object(request))
        let requestType = fields.choice("requestType", requestTypes)
        let items = fields.array("identifiers", required: true, maxCount: maxIdentifiers) ?? []
        if fields.object["identifiers"] != nil, items.isEmpty, fields.errors.allSatisfy({ $0.field != "identifiers" }) {
            fields.fail("identifiers", "needs at least one {type, value}")
        }
        var identifiers: [PrivacyIdentifiers.Identifier] = []
        for (index, item) in items.enumerated() {
            let field = "identifiers[\(index)]"
            guard case .object(let object) = item else { fields.fail(field, "must be an object {type, value}"); continue }
            var inner = RequestBody.Fields(object, prefix: field + ".")
            let type = inner.choice("type", PrivacyIdentifiers.Kind.allCases.map(\.rawValue)).flatMap(PrivacyIdentifiers.Kind.init)
            let value = inner.string("value", maxLength: 320)
            inner.refuseUnknown(allowed: ["type", "value"])
            // The message names the expected format, never the value.
            if let type, let value, !type.accepts(value) { inner.fail("value", "is not a valid \(type.rawValue) (\(type.format))") }
            fields.errors += inner.errors
            if let type, let value, inner.errors.isEmpty { identifiers.append(.init(type: type, value: value)) }
        }
        fields.refuseUnknown(allowed: ["requestType", "identifiers"])
        let validType = try fields.valid(requestType)
        let body: JSONValue = .object([
            "requestType": .string(validType),
            "identifiers": .array(identifiers.map { .object(["type": .string($0.type.rawValue), "value": .string($0.value)]) }),
        ])
        let write = SingleWrite(kind: .privacy, lane: "privacy", method: "POST", path: RoktPath.privacyRequests, body: body)
        return (write, PrivacyIdentifiers.redacted(body) ?? .null)
    }

    /// The accepted request in the log, by identifier type and hash only.
    static func logAccepted(_ operation: Operation, logger: Logger) {
        logger.info(
            "privacy request accepted",
            [
                "operationId": operation.id, "requestType": operation.request["requestType"]?.stringValue ?? "",
                "identifiers": (operation.request["identifiers"]?.arrayValue ?? []).map {
                    "\($0["type"]?.stringValue ?? ""):\($0["valueSha256"]?.stringValue ?? "")"
                }.joined(separator: ","),
            ])
    }

    /// An optional `{reason?}` → Rokt's deletion of the merchant's data.
    static func dataDeletion(_ request: HTTPRequest, merchant: String) throws(Problem) -> (write: SingleWrite, request: JSONValue) {
        var fields = RequestBody.Fields(try RequestBody.optionalObject(request))
        let reason = fields.string("reason", required: false, maxLength: 500)
        fields.refuseUnknown(allowed: ["reason"])
        try fields.check()
        let body: JSONValue = .object(reason.map { ["reason": .string($0)] } ?? [:])
        return (SingleWrite(kind: .dataDeletion, lane: "data-deletion", method: "POST", path: RoktPath.dataDeletion(merchant), body: body), body)
    }
}
