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
        invariant(integers(in: again) == integers(in: value), "an integer changed on the way through the writer")
        invariant(again.serializedBytes == text, "writing is not a fixed point")
    }
    return 0
}

/// Every `.integer` of a value, in writing order: they must survive a round trip exactly.
private func integers(in value: JSONValue) -> [Int] {
    switch value {
    case .integer(let integer): [integer]
    case .array(let items): items.flatMap(integers)
    case .object(let members): members.keys.sorted().flatMap { integers(in: members[$0]!) }
    default: []
    }
}
