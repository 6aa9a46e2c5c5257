import JSON

extension HTTPResponse {
    /// An RFC 9457 `application/problem+json` response with `"type":"about:blank"`, whose
    /// title is then the status's reason phrase (§4.2.1). `extensions` are extra string
    /// members appended after `detail`, in order. Built by hand: the HTTP module has no
    /// Foundation, and a fixed member order keeps the bytes predictable for tests and caches.
    public static func problem(
        _ status: HTTPStatus, detail: String, extensions: [(name: String, value: String)] = [],
        headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        var json = #"{"type":"about:blank","title":"# + JSONString.escape(status.reasonPhrase)
        json += #","status":\#(status.code),"detail":"# + JSONString.escape(detail)
        for member in extensions {
            json += "," + JSONString.escape(member.name) + ":" + JSONString.escape(member.value)
        }
        json += "}"
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/problem+json")
        return HTTPResponse(status: status, headers: headers, body: json)
    }
}

extension HTTPResponse {
    /// The opaque 500 for a failure whose text must stay in the log: only `errorId` is shown.
    public static func internalError(id: String) -> HTTPResponse {
        .problem(.internalServerError, detail: "An unexpected error occurred (\(id))", extensions: [(name: "errorId", value: id)])
    }
}
