import JSON
/// The five theme tokens of a layout, the only fields the Partnerships API lets a partner edit.
public struct ThemeTokens: Sendable, Equatable {
    public var primaryColor: String
    public var backgroundColor: String
    public var textColor: String
    public var closeButtonColor: String
    public var borderRadius: Double

    public init(primaryColor: String, backgroundColor: String, textColor: String, closeButtonColor: String, borderRadius: Double) {
        self.primaryColor = primaryColor
        self.backgroundColor = backgroundColor
        self.textColor = textColor
        self.closeButtonColor = closeButtonColor
        self.borderRadius = borderRadius
    }

    /// What a new page's layout starts with.
    public static let standard = ThemeTokens(
        primaryColor: "#1A73E8", backgroundColor: "#FFFFFF", textColor: "#202124", closeButtonColor: "#5F6368", borderRadius: 8)
}

/// A page's layout.
public struct Layout: Sendable, Equatable {
    public var layoutId: String
    public var theme: ThemeTokens
}

/// The body of `PATCH …/layouts/{layout_id}`: a sparse update of the five tokens.
///
/// Guarantees: at least one token; nothing but the five tokens (anything else is a 400 naming
/// it); colors are `#RRGGBB` or `#RRGGBBAA` (hex digits of either case, stored as sent);
/// `borderRadius` is a number in 0…`maxBorderRadius`; `null` is refused (a token cannot be unset).
struct ThemePatch: Sendable, Equatable {
    var primaryColor: String?
    var backgroundColor: String?
    var textColor: String?
    var closeButtonColor: String?
    var borderRadius: Double?

    static let maxBorderRadius = 64.0
    static let tokens = ["primaryColor", "backgroundColor", "textColor", "closeButtonColor", "borderRadius"]

    static func parse(_ body: JSONValue?) throws(SandboxError) -> ThemePatch {
        guard let body else { throw .validation("The request body must set at least one of \(tokens.joined(separator: ", "))") }
        guard case .object(let members) = body else { throw .validation("The request body must be a JSON object, got \(body.typeName)") }
        if let unknown = members.keys.filter({ !tokens.contains($0) }).sorted().first {
            throw .validation("\(unknown) is not a theme token; only \(tokens.joined(separator: ", ")) can be edited")
        }
        guard !members.isEmpty else { throw .validation("The request body must set at least one of \(tokens.joined(separator: ", "))") }
        if let cleared = members.filter({ $0.value == .null }).keys.sorted().first {
            throw .validation("\(cleared) cannot be null: send a value, or leave the token out to keep it")
        }
        var reader = try JSONObjectReader(body)
        var patch = ThemePatch()
        patch.primaryColor = try color("primaryColor", &reader)
        patch.backgroundColor = try color("backgroundColor", &reader)
        patch.textColor = try color("textColor", &reader)
        patch.closeButtonColor = try color("closeButtonColor", &reader)
        if let radius = try reader.number("borderRadius") {
            guard radius >= 0, radius <= maxBorderRadius, radius.isFinite else {
                throw .validation("borderRadius must be a number from 0 to \(Int(maxBorderRadius)), got \(radius)")
            }
            patch.borderRadius = radius
        }
        return patch
    }

    private static func color(_ key: String, _ reader: inout JSONObjectReader) throws(SandboxError) -> String? {
        guard let value = try reader.string(key) else { return nil }
        let digits = value.utf8.dropFirst()
        let isHex = digits.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20)
        }
        guard value.hasPrefix("#"), digits.count == 6 || digits.count == 8, isHex else {
            throw .validation("\(key) must be a color #RRGGBB or #RRGGBBAA, got \"\(value)\"")
        }
        return value
    }

    func applied(to theme: ThemeTokens) -> ThemeTokens {
        var theme = theme
        if let primaryColor { theme.primaryColor = primaryColor }
        if let backgroundColor { theme.backgroundColor = backgroundColor }
        if let textColor { theme.textColor = textColor }
        if let closeButtonColor { theme.closeButtonColor = closeButtonColor }
        if let borderRadius { theme.borderRadius = borderRadius }
        return theme
    }
}
