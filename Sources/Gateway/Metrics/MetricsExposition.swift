/// Writes the Prometheus text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): each family's `# HELP` and
/// `# TYPE` once, then its samples; label values and help text escaped as the format says.
struct MetricsExposition {
    enum Kind: String { case counter, gauge, histogram }

    private(set) var text = ""
    private var families: Set<String> = []

    /// Starts a family; a name given twice is a programming error (a parser refuses such a scrape).
    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        let isNew = families.insert(name).inserted
        assert(isNew, "metric family \(name) written twice")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample line; `labels` in the order given (callers keep it stable).
    mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        sample(name, Array(labels), value)
    }

    mutating func sample(_ name: String, _ labels: [(key: String, value: String)], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.key)=\"\(Self.escapeLabel($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    /// `_bucket` lines (cumulative, ending with `le="+Inf"`), then `_sum` and `_count`.
    mutating func histogram(_ name: String, _ labels: [(key: String, value: String)], _ histogram: DurationHistogram) {
        var cumulative = 0
        for (index, bound) in DurationHistogram.bounds.enumerated() {
            cumulative += histogram.counts[index]
            sample(name + "_bucket", labels + [("le", Self.format(bound))], Double(cumulative))
        }
        cumulative += histogram.counts[DurationHistogram.bounds.count]
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(cumulative))
        sample(name + "_sum", labels, histogram.sum)
        sample(name + "_count", labels, Double(cumulative))
    }

    /// Whole numbers without a fraction (`12`, not `12.0`), others as Swift's shortest round-trip text.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Label values escape `\`, `"` and line feeds.
    static func escapeLabel(_ value: String) -> String { escape(value, quotes: true) }

    /// Help text escapes `\` and line feeds (quotes stay as they are).
    static func escapeHelp(_ value: String) -> String { escape(value, quotes: false) }

    /// By scalar, so a `\r\n` (one Character in Swift) still has its line feed escaped.
    private static func escape(_ value: String, quotes: Bool) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || (quotes && $0 == 0x22) }) else { return value }
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quotes: escaped += "\\\""
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}

/// A latency histogram's raw counts: one slot per upper bound plus +Inf; cumulative counts are
/// built when rendering, so recording is one increment.
struct DurationHistogram: Sendable, Equatable {
    /// Upper bounds in seconds, from a fast local answer to the 10 s default Rokt timeout.
    static let bounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    var counts = [Int](repeating: 0, count: bounds.count + 1)
    var sum: Double = 0

    mutating func observe(_ seconds: Double) {
        counts[Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count] += 1
        sum += seconds
    }
}
