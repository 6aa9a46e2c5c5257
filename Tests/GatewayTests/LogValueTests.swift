import HTTP
import Testing
@testable import Gateway

/// Log lines: typed values written as JSON numbers and booleans, the trace of the task on every line.
struct LogValueTests {
    static func lines(_ format: GatewayConfiguration.LogFormat, _ write: (Logger) -> Void) -> [String] {
        let capture = LogCapture()
        write(Logger(level: .debug, format: format, clock: ManualWallClock(0), sink: capture.sink))
        return capture.all
    }

    @Test func numbersAndBooleansAreBareInJSONAndStringsQuoted() {
        let values: [(LogValue, String)] = [
            (.int(200), "200"), (.int(-3), "-3"), (.double(12.3), "12.3"), (.double(12), "12"), (.double(0.001), "0.001"),
            (.double(.nan), "null"), (.double(.infinity), "null"), (.bool(true), "true"), (.bool(false), "false"),
            (.string("200"), #""200""#), (.string("a\"b\n"), #""a\"b\n""#), ("/v1/x", #""/v1/x""#), (45, "45"), (2.5, "2.5"),
        ]
        for (value, json) in values { #expect(value.json == json, "\(value)") }
        #expect(LogValue.milliseconds(.microseconds(12_345)) == .double(12.345))
        #expect(LogValue.milliseconds(.seconds(2)) == .double(2000))
        #expect(LogValue.milliseconds(.nanoseconds(1_499)) == .double(0.001))
    }

    @Test func aJSONLineKeepsTypesAndTheStringFieldsOfExistingCallers() {
        let lines = Self.lines(.json) { logger in
            logger.log(.info, "request", values: ["status": .int(200), "duration_ms": .double(12.3), "route": "/v1/x", "cached": .bool(false)])
            logger.info("plain", ["status": "200"])
        }
        #expect(lines[0] == #"{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"request","cached":false,"duration_ms":12.3,"route":"/v1/x","status":200}"#)
        #expect(lines[1].hasSuffix(#""msg":"plain","status":"200"}"#), "a [String: String] field stays a string")
    }

    @Test func theTextFormatStaysReadable() {
        let lines = Self.lines(.text) { $0.log(.warn, "request", values: ["status": .int(503), "duration_ms": .double(1.5), "route": "/v1/x"]) }
        #expect(lines == ["1970-01-01T00:00:00.000Z WARN request duration_ms=1.5 route=/v1/x status=503"])
    }

    @Test func everyLineInsideATraceCarriesItsIds() {
        let trace = TraceContext.continuing(TraceRecord(traceId: "4bf92f3577b34da6a3ce929d0e0e4736"), requestId: nil, random: { 0xabc })
        let lines = Self.lines(.json) { logger in
            TraceContext.withCurrent(trace) { logger.error("inside", ["k": "v"]) }
            logger.error("outside")
        }
        #expect(lines[0].contains(#""span_id":"0000000000000abc""#))
        #expect(lines[0].contains(#""trace_id":"4bf92f3577b34da6a3ce929d0e0e4736""#))
        #expect(!lines[1].contains("trace_id") && !lines[1].contains("span_id"))
        let text = Self.lines(.text) { logger in TraceContext.withCurrent(trace) { logger.info("inside") } }
        #expect(text == ["1970-01-01T00:00:00.000Z INFO inside span_id=0000000000000abc trace_id=4bf92f3577b34da6a3ce929d0e0e4736"])
    }

    @Test func theAccessLogEntryWritesItsFieldsTyped() {
        let entry = AccessLogEntry(
            requestId: "req_1", method: "POST", path: "/v1/merchants/m1/controls", route: "/v1/merchants/{accountId}/controls",
            status: 202, duration: .microseconds(12_300), clientAddress: "198.51.100.1", bytesIn: 45, bytesOut: nil,
            apiKeyId: "key_1", operationId: "op_1")
        let line = Self.lines(.json) { $0.log(.info, "request", values: entry.fields) }[0]
        for part in [
            #""status":202"#, #""duration_ms":12.3"#, #""bytes_in":45"#, #""route":"/v1/merchants/{accountId}/controls""#,
            #""client_address":"198.51.100.1""#, #""api_key_id":"key_1""#, #""operation_id":"op_1""#, #""request_id":"req_1""#,
        ] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
        #expect(!line.contains("bytes_out"), "a streamed body's length is not known when the line is written")
    }
}
