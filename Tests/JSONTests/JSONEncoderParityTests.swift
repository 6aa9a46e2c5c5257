import Foundation
import JSON
import Testing

/// The writer makes the bytes Foundation's JSONEncoder (sorted keys, unescaped slashes) made
/// for the same value before the writer replaced it: bodies sent to Rokt and stored documents
/// keep their bytes.
@Suite struct JSONEncoderParityTests {
    func encoderBytes(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func stringsEscapeAlike() throws {
        let everyControl = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        for text in [everyControl, "quote\" back\\slash / é 😀", "plain", ""] {
            #expect(JSONString.escape(text) == (try encoderBytes(.string(text))))
        }
    }

    @Test func documentsWriteAlike() throws {
        let value: JSONValue = .object([
            "Zebra": .integer(-3), "apple": .number(2.5), "a10": .number(7), "a9": .null, "aB": .bool(false), "ab": .bool(true),
            "nested": .array([.object(["x": .string("y\u{8}")]), .integer(12_345_678_901_234), .number(0.1)]),
        ])
        #expect(value.serialized == (try encoderBytes(value)))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(value.serialized.utf8)) == value)
    }
}
