import JSON

/// How the sandbox shapes its Partnerships answers where Rokt's documents leave the shape open.
/// `standard` is the documented envelope with camelCase members; the other values are what a
/// real Rokt (or another double) may plausibly send instead, so a client can be tried against
/// each. Only successful Partnerships answers are reshaped; refusals keep the envelope.
public struct SandboxResponseShapes: Sendable, Equatable {
    /// `data` of `GET /v1/partnership/accounts`.
    public enum AccountList: String, Sendable, CaseIterable {
        /// `{accounts, nextCursor}` (the documented page).
        case paginated
        /// The page's accounts as a bare array, no cursor.
        case array
        /// `{items, next_cursor}`.
        case items
        /// `{data, cursor}`.
        case data
    }

    public enum Envelope: String, Sendable, CaseIterable {
        /// `{status, error, message, request_id, data}`.
        case standard
        /// The envelope without `request_id` (the id only in `X-Request-Id`).
        case headerRequestId = "header_request_id"
        /// No envelope: the body is the payload; the request id only in `X-Request-Id`.
        case bare
    }

    public enum MemberNames: String, Sendable, CaseIterable {
        case camelCase = "camel_case"
        case snakeCase = "snake_case"
    }

    public var accountList: AccountList = .paginated
    public var envelope: Envelope = .standard
    public var memberNames: MemberNames = .camelCase
    /// Every number in the payload sent as a string (`"partnerVerticalId":"1500"`).
    public var numbersAsStrings = false
    /// All-digit ids sent as numbers; registered accounts then get all-digit ids.
    public var idsAsNumbers = false
    /// Members nobody asked for in every object (`"_links"`, `"x_unknown"`).
    public var unknownMembers = false

    public init() {}

    public static let standard = SandboxResponseShapes()

    /// Every alternative at once.
    public static var alternative: SandboxResponseShapes {
        var shapes = SandboxResponseShapes()
        shapes.accountList = .array
        shapes.envelope = .bare
        shapes.memberNames = .snakeCase
        shapes.numbersAsStrings = true
        shapes.idsAsNumbers = true
        shapes.unknownMembers = true
        return shapes
    }

    var isStandard: Bool { self == .standard }

    // MARK: JSON (the admin route and `--shapes`)

    /// `{"preset"?: "standard"|"alternative", "accountList"?, "envelope"?, "memberNames"?,
    /// "numbersAsStrings"?, "idsAsNumbers"?, "unknownMembers"?}`; members left out keep the
    /// preset's value (or the current one without a preset).
    func updated(with json: JSONValue) throws(SandboxError) -> SandboxResponseShapes {
        var reader = try JSONObjectReader(json)
        var shapes = self
        if let preset = try reader.string("preset") {
            switch preset {
            case "standard": shapes = .standard
            case "alternative": shapes = .alternative
            default: throw .validation("preset must be standard or alternative, got \"\(preset)\"")
            }
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(SandboxError) -> T? where T.RawValue == String {
            guard let raw = try reader.string(key) else { return nil }
            guard let value = T(rawValue: raw) else {
                throw .validation("\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(raw)\"")
            }
            return value
        }
        if let value = try choice("accountList", AccountList.self) { shapes.accountList = value }
        if let value = try choice("envelope", Envelope.self) { shapes.envelope = value }
        if let value = try choice("memberNames", MemberNames.self) { shapes.memberNames = value }
        if let value = try reader.bool("numbersAsStrings") { shapes.numbersAsStrings = value }
        if let value = try reader.bool("idsAsNumbers") { shapes.idsAsNumbers = value }
        if let value = try reader.bool("unknownMembers") { shapes.unknownMembers = value }
        try reader.rejectUnknownMembers(allowed: "preset, accountList, envelope, memberNames, numbersAsStrings, idsAsNumbers, unknownMembers")
        return shapes
    }

    /// `standard`, `alternative`, or a JSON object as `POST /__sandbox/shapes` takes (`--shapes`).
    public init(argument: String) throws(SandboxError) {
        let text = String(argument.drop(while: \.isWhitespace))
        let json: JSONValue = text.hasPrefix("{") ? (try JSONValue.parseBody(Array(text.utf8)) ?? .object([:])) : .object(["preset": .string(text)])
        self = try SandboxResponseShapes.standard.updated(with: json)
    }

    var json: [String: JSONValue] {
        [
            "accountList": .string(accountList.rawValue), "envelope": .string(envelope.rawValue), "memberNames": .string(memberNames.rawValue),
            "numbersAsStrings": .bool(numbersAsStrings), "idsAsNumbers": .bool(idsAsNumbers), "unknownMembers": .bool(unknownMembers),
        ]
    }

    // MARK: Reshaping

    /// `reply` as these shapes have it. Refusals and non-JSON bodies pass unchanged.
    func reshape(_ reply: SandboxReply, endpoint: SandboxEndpoint) -> SandboxReply {
        guard !isStandard, (200..<300).contains(reply.status), endpoint != .placementsAny,
            case .object(var envelope)? = try? JSONValue.parseBody(reply.body), let payload = envelope["data"]
        else { return reply }
        var data = payload
        if endpoint == .listAccounts { data = reshapeAccountList(data) }
        data = reshapeMembers(data, key: nil)
        var reshaped = reply
        switch self.envelope {
        case .bare:
            reshaped.body = SandboxReply.encodeSorted(data)
        case .standard, .headerRequestId:
            envelope["data"] = data
            if self.envelope == .headerRequestId { envelope["request_id"] = nil }
            if unknownMembers { envelope["x_unknown"] = .string("ignored") }
            reshaped.body = SandboxReply.encodeSorted(JSONValue.object(envelope))
        }
        return reshaped
    }

    private func reshapeAccountList(_ data: JSONValue) -> JSONValue {
        guard case .object(let page) = data, let accounts = page["accounts"] else { return data }
        let cursor = page["nextCursor"] ?? .null
        switch accountList {
        case .paginated: return data
        case .array: return accounts
        // Already snake_case: the member renaming leaves these as they are.
        case .items: return .object(["items": accounts, "next_cursor": cursor])
        case .data: return .object(["data": accounts, "cursor": cursor])
        }
    }

    private func reshapeMembers(_ value: JSONValue, key: String?) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (name, member) in members {
                out[memberNames == .snakeCase ? Self.snakeCase(name) : name] = reshapeMembers(member, key: name)
            }
            if unknownMembers {
                out["x_unknown"] = .integer(1)
                out["_links"] = .object(["self": .string("https://example.invalid/")])
            }
            return .object(out)
        case .array(let items):
            return .array(items.map { reshapeMembers($0, key: key) })
        case .integer(let integer) where numbersAsStrings:
            return .string(String(integer))
        case .number(let number) where numbersAsStrings:
            return .string(number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number))
        case .string(let string) where idsAsNumbers && (key.map(Self.isIdName) ?? false):
            guard !string.isEmpty, string.utf8.count < 16, string.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let integer = Int(string) else { return value }
            return .integer(integer)
        default:
            return value
        }
    }

    static func isIdName(_ name: String) -> Bool { name.hasSuffix("Id") || name.hasSuffix("_id") || name == "id" }

    /// `partnerVerticalId` → `partner_vertical_id`.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
