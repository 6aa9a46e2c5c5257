/// Parsing of `application/x-www-form-urlencoded` query strings (`a=1&b=x+y`).
///
/// Pairs are separated by `&`, a name is split from its value at the first `=`, and both
/// are percent-decoded with `+` as a space. Lenient where that is harmless, strict where
/// it is not: empty pairs (`a=1&&b=2`) and a name without `=` (`flag` → `""`) are accepted;
/// a pair with a malformed escape, invalid UTF-8 or an empty name is skipped whole, never
/// half-decoded.
public enum QueryString {
    /// Name → value; the first occurrence of a name wins (later duplicates are ignored).
    public static func parse(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in parseAll(raw) where result[pair.name] == nil {
            result[pair.name] = pair.value
        }
        return result
    }

    /// Every well-formed pair, in order, duplicates included.
    public static func parseAll(_ raw: String) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for pair in raw.utf8.split(separator: UInt8(ascii: "&")).map(Substring.init) {
            let rawName: Substring, rawValue: Substring
            if let equals = pair.firstIndex(of: "=") {
                rawName = pair[..<equals]
                rawValue = pair[pair.index(after: equals)...]
            } else {
                rawName = pair
                rawValue = ""
            }
            guard !rawName.isEmpty,
                let name = PercentEncoding.decode(rawName, plusAsSpace: true),
                let value = PercentEncoding.decode(rawValue, plusAsSpace: true)
            else { continue }
            pairs.append((name: name, value: value))
        }
        return pairs
    }
}
