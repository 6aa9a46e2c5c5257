/// An error that knows how it should be answered (Hummingbird's pattern).
///
/// When a handler throws a conforming error, the router sends `response()` as it is.
/// Any other error becomes an opaque 500 whose body never contains the error's text.
public protocol HTTPResponseError: Error {
    func response() -> HTTPResponse
}

/// Thrown by a handler to end the connection without any response: the server closes the
/// socket at once (used to simulate a peer vanishing mid-request, and against abuse).
public struct ConnectionAbort: Error, Sendable {
    public init() {}
}
