@testable import HTTP

// The JSON parser: whatever it accepts is written back out and must parse to the same value,
// and writing that again must give the same text (a fixed point). Numbers keep the integer /
// double distinction; a rejection must point at a byte within the input.

indirect enum Value: Equatable, JSONBuildable {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([Value]), object([String: Value])

    static var jsonNull: Value { .null }
    static func jsonBool(_ value: Bool) -> Value { .bool(value) }
    static func jsonInteger(_ value: Int) -> Value { .integer(value) }
    static func jsonNumber(_ value: Double) -> Value { .number(value) }
    static func jsonString(_ value: String) -> Value { .string(value) }
    static func jsonArray(_ items: [Value]) -> Value { .array(items) }
    static func jsonObject(_ members: [String: Value]) -> Value { .object(members) }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .integer(let i): out += String(i).utf8
        case .number(let d):
            invariant(d.isFinite, "non-finite number \(d)")
            out += "\(d)".utf8  // Swift's shortest round-tripping form; "1e+20" and "5e-324" are JSON
        case .string(let s): Value.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (k, key) in members.keys.sorted().enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                Value.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        let value: Value
        do throws(JSONSyntaxError) {
            value = try JSONParser.parse(input, as: Value.self)
        } catch {
            invariant(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) of \(input.count)")
            return
        }
        var text: [UInt8] = []
        value.write(into: &text)
        let again: Value
        do throws(JSONSyntaxError) { again = try JSONParser.parse(text, as: Value.self) } catch {
            fatalError("invariant broken: \(String(decoding: text, as: UTF8.self)) written from an accepted input fails: \(error)")
        }
        invariant(again == value, "\(String(decoding: text, as: UTF8.self)) parses to a different value")
        var second: [UInt8] = []
        again.write(into: &second)
        invariant(second == text, "writing is not a fixed point")
    }
    return 0
}
