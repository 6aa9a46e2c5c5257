import JSON
import Testing

@Suite struct JSONFieldsTests {
    func fields(_ text: String, prefix: String = "", namesFoundType: Bool = false) throws -> JSONFields {
        guard case .object(let members) = try JSONValue.parse(Array(text.utf8)) else { throw JSONShapeError("not an object") }
        return JSONFields(members, prefix: prefix, namesFoundType: namesFoundType)
    }

    @Test func readsEveryKindAndCollectsEveryError() throws {
        var fields = try fields(#"{"id": 7, "ratio": 2, "name": "n", "on": true, "tags": ["a"], "kind": "x", "big": 5.0}"#)
        #expect(fields.integer("id") == 7)
        #expect(fields.integer("big") == 5)
        #expect(fields.number("ratio", range: 0...10) == 2)
        #expect(fields.string("name") == "n")
        #expect(fields.bool("on") == true)
        #expect(fields.array("tags") == [.string("a")])
        #expect(fields.choice("kind", ["x", "y"]) == "x")
        #expect(fields.integer("missing", required: false) == nil)
        #expect(fields.errors.isEmpty)
    }

    @Test func namesEachProblemByItsPath() throws {
        var fields = try fields(#"{"id": 0, "half": 1.5, "name": 3, "ratio": 11, "kind": "z", "tags": {}, "extra": 1, "nul": null}"#, prefix: "add.")
        #expect(fields.integer("id") == nil)
        #expect(fields.integer("half") == nil)
        #expect(fields.string("name") == nil)
        #expect(fields.number("ratio", range: 0...10.5) == nil)
        #expect(fields.choice("kind", ["x", "y"]) == nil)
        #expect(fields.array("tags") == nil)
        #expect(fields.string("nul") == nil)
        fields.refuseUnknown(allowed: ["id", "half", "name", "ratio", "kind", "tags", "nul"])
        #expect(
            fields.errors == [
                JSONFieldError(field: "add.id", message: "must be between 1 and 2147483647"),
                JSONFieldError(field: "add.half", message: "must be an integer"),
                JSONFieldError(field: "add.name", message: "must be a string"),
                JSONFieldError(field: "add.ratio", message: "must be between 0 and 10.5"),
                JSONFieldError(field: "add.kind", message: "must be one of x, y"),
                JSONFieldError(field: "add.tags", message: "must be an array"),
                JSONFieldError(field: "add.nul", message: "is required"),
                JSONFieldError(field: "add.extra", message: "is not a known field"),
            ])
    }

    @Test func boundsAreOptional() throws {
        var fields = try fields(#"{"n": -5, "s": "abcdef", "a": [1, 2, 3]}"#)
        #expect(fields.integer("n", range: nil) == -5)
        #expect(fields.string("s", maxLength: nil) == "abcdef")
        #expect(fields.string("s", maxLength: 3) == nil)
        #expect(fields.array("a", maxCount: 2) == nil)
        #expect(fields.errors.map(\.message) == ["must be at most 3 characters", "may hold at most 2 items"])
    }

    @Test func canNameTheTypeThatWasSent() throws {
        var fields = try fields(#"{"n": "1", "b": 1, "o": []}"#, namesFoundType: true)
        _ = fields.integer("n")
        _ = fields.bool("b")
        _ = fields.string("o")
        #expect(fields.errors.map(\.message) == ["must be an integer, got a string", "must be a boolean, got a number", "must be a string, got an array"])
    }

}
