import Foundation
import Testing

/// SQL and the SQLite layer stay behind the store protocols: outside `Sources/Gateway/Storage/`
/// no file imports `Store` or speaks SQL to a connection.
@Suite struct StorageBoundaryTests {
    static let forbidden = ["import Store", "SQLiteConnection", "db.query", "db.run", "Database.open"]

    /// The lines of `text` that reach the SQLite layer (comments aside).
    static func offenders(in text: String, file: String) -> [String] {
        var found: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.trimmingCharacters(in: .whitespaces)
            if code.hasPrefix("//") { continue }
            for word in forbidden where code.contains(word) { found.append("\(file):\(number + 1): \(word)") }
        }
        return found
    }

    @Test func noGatewayFileOutsideStorageReachesTheSQLiteLayer() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let gateway = root.appendingPathComponent("Sources/Gateway")
        let files = try #require(FileManager.default.enumerator(atPath: gateway.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasPrefix("Storage/") }
        #expect(files.count > 20, "the Gateway sources were not found under \(gateway.path)")
        let offenders = try files.flatMap { file in
            Self.offenders(in: try String(contentsOf: gateway.appendingPathComponent(file), encoding: .utf8), file: file)
        }
        #expect(offenders.isEmpty, "SQL or the SQLite layer outside Storage/: \(offenders)")
    }

    @Test func theCheckSeesImportsAndSQLButNotComments() {
        let text = """
            import Store
            // db.run is mentioned in a comment only
                try db.run("DELETE FROM jobs")
                let rows = try db.queryOne("SELECT 1")
            """
        #expect(Self.offenders(in: text, file: "F.swift") == ["F.swift:1: import Store", "F.swift:3: db.run", "F.swift:4: db.query"])
    }
}
