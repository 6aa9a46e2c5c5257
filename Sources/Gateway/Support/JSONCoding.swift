import FoundationEssentials
import HTTP
import JSON

/// JSON for the gateway's own documents: camelCase, sorted keys (stable bytes for replays and
/// tests). Values and the hot-path models go through the one writer and parser; other Codable
/// types through Foundation's coders.
public enum JSON {
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        if let model = value as? any JSONValueRepresentable { return model.jsonValue.serializedBytes }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch { return Array(#"{"error":"unencodable"}"#.utf8) }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if let model = T.self as? any JSONValueRepresentable.Type { return try model.init(json: JSONValue.parse(bytes)) as! T }
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
}

extension HTTPResponse {
    /// A JSON answer: the value's compact bytes (sorted keys) with its content type.
    static func json(_ value: JSONValue, status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var headers = headers
        headers["Content-Type"] = "application/json"
        return HTTPResponse(status: status, headers: headers, body: value.serializedBytes)
    }
}
