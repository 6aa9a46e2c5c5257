import HTTP
import JSON
import Synchronization
#if canImport(Glibc)
    import Glibc
#endif

/// Structured logging to stdout, one line per event, JSON or text (`LOG_FORMAT`), filtered by
/// `LOG_LEVEL`. Callers pass fields, never raw headers or bodies: secrets stay out by construction.
/// A line written while a request or a job is handled carries its `trace_id` and `span_id`
/// (`TraceContext.current`), so no call site passes them.
public final class Logger: Sendable {
    public typealias Level = GatewayConfiguration.LogLevel

    public let level: Level
    public let format: GatewayConfiguration.LogFormat
    private let clock: any WallClock
    private let sink: @Sendable (String) -> Void
    private let lock = Mutex(())

    public init(
        level: Level = .info, format: GatewayConfiguration.LogFormat = .json, clock: any WallClock = SystemWallClock(),
        sink: (@Sendable (String) -> Void)? = nil
    ) {
        self.level = level
        self.format = format
        self.clock = clock
        self.sink =
            sink ?? { line in
                var bytes = Array(line.utf8)
                bytes.append(0x0A)
                bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
            }
    }

    // Fields are built only when the line is written (the access log runs on every request).
    public func debug(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) { log(.debug, message, fields()) }
    public func info(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) { log(.info, message, fields()) }
    public func warn(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) { log(.warn, message, fields()) }
    public func error(_ message: String, _ fields: @autoclosure () -> [String: String] = [:]) { log(.error, message, fields()) }

    public func log(_ level: Level, _ message: String, _ fields: @autoclosure () -> [String: String]) {
        guard level >= self.level else { return }
        log(level, message, values: fields().mapValues(LogValue.string))
    }

    /// A line with typed fields: numbers and booleans are written unquoted in JSON.
    public func log(_ level: Level, _ message: String, values fields: @autoclosure () -> [String: LogValue]) {
        guard level >= self.level else { return }
        var fields = fields()
        if let trace = TraceContext.current {
            fields["trace_id"] = .string(trace.traceId)
            fields["span_id"] = .string(trace.spanId)
        }
        let time = Timestamp.format(clock.nowMillis())
        let sorted = fields.sorted(by: { $0.key < $1.key })
        let line: String
        switch format {
        case .json:
            var parts = [
                #""time":"# + JSONString.escape(time), #""level":"# + JSONString.escape(level.rawValue),
                #""msg":"# + JSONString.escape(message),
            ]
            for (key, value) in sorted { parts.append(JSONString.escape(key) + ":" + value.json) }
            line = "{" + parts.joined(separator: ",") + "}"
        case .text:
            line = "\(time) \(level.rawValue.uppercased()) \(message)" + sorted.map { " \($0.key)=\($0.value.text)" }.joined()
        }
        lock.withLock { _ in sink(line) }
    }
}
