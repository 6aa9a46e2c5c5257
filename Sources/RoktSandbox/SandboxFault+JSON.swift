import JSON
/// The admin JSON shape of faults (`POST /__sandbox/faults`, `GET /__sandbox/faults`): one
/// object per fault with a `kind` and that kind's members, all flat. See docs/sandbox.md.
extension SandboxFault {
    static let kinds = "status, latency, drop, foreignEdit, stuckVariants, pendingOperations"

    /// Parses one fault, with 400-style messages naming the member at fault.
    init(json: JSONValue) throws(SandboxError) {
        var reader = try JSONObjectReader(json)
        guard let kind = try reader.string("kind") else { throw .validation("kind is required (one of \(Self.kinds))") }
        switch kind {
        case "status":
            let status = try reader.requiredInteger("status")
            guard (400...599).contains(status) else { throw .validation("status must be from 400 to 599, got \(status)") }
            let retryAfter = try reader.integer("retryAfter")
            if let retryAfter, retryAfter < 0 { throw .validation("retryAfter must be ≥ 0 seconds") }
            let probability = try reader.number("probability") ?? 1
            guard probability > 0, probability <= 1 else { throw .validation("probability must be in (0, 1], got \(probability)") }
            self = .status(
                StatusFault(
                    match: try Self.matcher(&reader), status: status, retryAfterSeconds: retryAfter,
                    count: try Self.count(&reader, default: 1), probability: probability, timing: try Self.timing(&reader)))
        case "latency":
            let milliseconds = try reader.requiredInteger("milliseconds")
            guard (0...60_000).contains(milliseconds) else { throw .validation("milliseconds must be from 0 to 60000") }
            self = .latency(LatencyFault(match: try Self.matcher(&reader), milliseconds: milliseconds, count: try Self.count(&reader, default: nil)))
        case "drop":
            self = .drop(DropFault(match: try Self.matcher(&reader), count: try Self.count(&reader, default: 1), timing: try Self.timing(&reader)))
        case "foreignEdit":
            let accountId = try reader.requiredString("accountId")
            var edit = ForeignControlsEdit(accountId: accountId, count: try Self.count(&reader, default: 1) ?? 1)
            edit.name = try reader.string("name")
            let verticals = reader.value("blockedVerticals"), domains = reader.value("domains")
            if verticals != nil || domains != nil {
                // Same member shapes as a PUT body; a Rokt-side writer is not bound by the mapping table.
                let replacement = try ControlsReplacement.parse(
                    .object(["blockedVerticals": verticals ?? .array([]), "domains": domains ?? .array([])]),
                    mapping: PartnerVerticalMapping(verticals: Int.min...Int.max, subVerticals: Int.min...Int.max))
                if verticals != nil { edit.blockedVerticals = replacement.blockedVerticals }
                if domains != nil { edit.domains = replacement.domains }
            }
            self = .foreignEdit(edit)
        case "stuckVariants":
            let accountId = try reader.requiredString("accountId")
            guard let elements = try reader.array("variantIds"), !elements.isEmpty else {
                throw .validation("variantIds is required: the pageVariantIds that keep their status")
            }
            var ids: [String] = []
            for (index, element) in elements.enumerated() {
                guard case .string(let id) = element else { throw .validation("variantIds[\(index)] must be a string") }
                ids.append(id)
            }
            let cascades = try reader.integer("cascades") ?? 1
            guard cascades >= 1 else { throw .validation("cascades must be ≥ 1") }
            self = .stuckVariants(StuckVariantsFault(accountId: accountId, variantIds: ids, cascades: cascades))
        case "pendingOperations":
            let polls = try reader.requiredInteger("polls")
            guard (0...1000).contains(polls) else { throw .validation("polls must be from 0 to 1000") }
            self = .pendingOperations(
                PendingOperationsFault(
                    match: try Self.matcher(&reader), count: try Self.count(&reader, default: 1) ?? 1, polls: polls))
        default:
            throw .validation("kind must be one of \(Self.kinds), got \"\(kind)\"")
        }
        try reader.rejectUnknownMembers(allowed: "kind and the members of that kind (see docs/sandbox.md)")
    }

    private static func matcher(_ reader: inout JSONObjectReader) throws(SandboxError) -> RequestMatcher {
        let method = try reader.string("method")
        let path = try reader.string("path")
        if let path, !path.hasPrefix("/"), path != "*" { throw .validation("path must be a pattern starting with /, got \"\(path)\"") }
        return RequestMatcher(method: method, path: path)
    }

    /// `count`: absent → `defaultCount`; `null` → unlimited; else ≥ 1.
    private static func count(_ reader: inout JSONObjectReader, default defaultCount: Int?) throws(SandboxError) -> Int? {
        if reader.isExplicitNull("count") { return nil }
        guard let count = try reader.integer("count") else { return defaultCount }
        guard count >= 1 else { throw .validation("count must be ≥ 1 (or null for unlimited)") }
        return count
    }

    private static func timing(_ reader: inout JSONObjectReader) throws(SandboxError) -> FaultTiming {
        guard let raw = try reader.string("timing") else { return .beforeApplying }
        guard let timing = FaultTiming(rawValue: raw) else { throw .validation("timing must be beforeApplying or afterApplying, got \"\(raw)\"") }
        return timing
    }

    /// The same shape back, for listings.
    var json: [String: JSONValue] {
        var members: [String: JSONValue] = ["kind": .string(kind)]
        func put(_ match: RequestMatcher) {
            members["method"] = match.method.map(JSONValue.string) ?? .null
            members["path"] = match.path.map(JSONValue.string) ?? .null
        }
        func count(_ value: Int?) -> JSONValue { value.map(JSONValue.integer) ?? .null }
        switch self {
        case .status(let fault):
            put(fault.match)
            members["status"] = .integer(fault.status)
            members["retryAfter"] = fault.retryAfterSeconds.map(JSONValue.integer) ?? .null
            members["count"] = count(fault.count)
            members["probability"] = .number(fault.probability)
            members["timing"] = .string(fault.timing.rawValue)
        case .latency(let fault):
            put(fault.match)
            members["milliseconds"] = .integer(fault.milliseconds)
            members["count"] = count(fault.count)
        case .drop(let fault):
            put(fault.match)
            members["count"] = count(fault.count)
            members["timing"] = .string(fault.timing.rawValue)
        case .foreignEdit(let edit):
            members["accountId"] = .string(edit.accountId)
            members["name"] = edit.name.map(JSONValue.string) ?? .null
            members["blockedVerticals"] = edit.blockedVerticals.map { .array($0.map(\.json)) } ?? .null
            members["domains"] = edit.domains.map { .array($0.map { .object(["domain": .string($0.domain), "policy": .string($0.policy)]) }) } ?? .null
            members["count"] = .integer(edit.count)
        case .stuckVariants(let fault):
            members["accountId"] = .string(fault.accountId)
            members["variantIds"] = .array(fault.variantIds.map(JSONValue.string))
            members["cascades"] = .integer(fault.cascades)
        case .pendingOperations(let fault):
            put(fault.match)
            members["count"] = .integer(fault.count)
            members["polls"] = .integer(fault.polls)
        }
        return members
    }
}

extension BlockedVertical {
    var json: JSONValue {
        .object(["partnerVerticalId": .integer(partnerVerticalId), "partnerSubVerticalId": .integer(partnerSubVerticalId), "policy": .string(policy)])
    }
}
