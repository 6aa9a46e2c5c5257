import JSON

// The JSON parser and writer: whatever the parser accepts is written back out by the writer and
// must parse to an equal value, writing that again must give the same text (a fixed point), and
// integers must come back digit for digit. A rejection must point at a byte within the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        let value: JSONValue
        do throws(JSONSyntaxError) {
            value = try JSONParser.parse(input)
        } catch {
            invariant(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) of \(input.count)")
            return
        }
        let text = value.serializedBytes
        let again: JSONValue
        do throws(JSONSyntaxError) { again = try JSONParser.parse(text) } catch {
            fatalError("invariant broken: \(String(decoding: text, as: UTF8.self)) written from an accepted input fails: \(error)")
        }
        invariant(again == value, "\(String(decoding: text, as: UTF8.self)) parses to a different value")
        invariant(integersSurvive(value, again), "an integer changed on the way through the writer")
        invariant(again.serializedBytes == text, "writing is not a fixed point")
    }
    return 0
}

/// Whether every `.integer` of `original` is the same `.integer` in `written` (a double may
/// come back as an integer: `5.0` is written `5`).
private func integersSurvive(_ original: JSONValue, _ written: JSONValue) -> Bool {
    switch (original, written) {
    case (.integer(let a), .integer(let b)): a == b
    case (.integer, _): false
    case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy(integersSurvive)
    case (.object(let a), .object(let b)): a.count == b.count && a.allSatisfy { key, value in b[key].map { integersSurvive(value, $0) } ?? false }
    default: true
    }
}
