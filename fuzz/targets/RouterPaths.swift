@testable import HTTP

// Router matching and percent-decoding. For any path: a found route's literals equal the
// decoded segments, its parameters are non-empty, and the path rebuilt from the template and
// the captured values (re-encoded) matches the same route with the same values. Percent
// decoding agrees with a byte-level reference; encoding then decoding gives the text back;
// query strings re-encoded parse to the same pairs.

let templates = [
    "/v1/merchants", "/v1/merchants/{accountId}", "/v1/merchants/{accountId}/controls",
    "/v1/merchants/{accountId}/controls/domains/{domain}", "/v1/merchants/registered",
    "/v1/operations/{operationId}", "/v1/files/{path...}", "/v1/files/latest", "/café/{x}/{y}",
    "/metrics", "/", "/a/{b}/c", "/a/b/{c}",
]
let methods: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options, HTTPMethod("BREW")]

let router: Router = {
    var router = Router()
    for (k, template) in templates.enumerated() {
        let handler: HTTPHandler = { _ in HTTPResponse(status: .ok) }
        router.add(k % 3 == 0 ? .post : .get, template, handler)
        if k % 4 == 1 { router.add(.delete, template, handler) }
    }
    return router
}()

/// Reference percent-decoding over bytes: nil on a bad escape or invalid UTF-8.
func referenceDecode(_ bytes: [UInt8], plusAsSpace: Bool) -> String? {
    func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        if bytes[i] == UInt8(ascii: "%") {
            guard i + 2 < bytes.count, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else { return nil }
            out.append(hi << 4 | lo)
            i += 3
        } else {
            out.append(plusAsSpace && bytes[i] == UInt8(ascii: "+") ? 0x20 : bytes[i])
            i += 1
        }
    }
    return String(validating: out, as: UTF8.self)
}

func checkPercentEncoding(_ text: String) {
    for plus in [false, true] {
        let decoded = PercentEncoding.decode(text, plusAsSpace: plus)
        invariant(decoded == referenceDecode(Array(text.utf8), plusAsSpace: plus), "decode(\(text), plus: \(plus)) = \(String(describing: decoded))")
    }
    let segment = PercentEncoding.encodePathSegment(text)
    invariant(!segment.utf8.contains(UInt8(ascii: "/")) && !segment.utf8.contains(UInt8(ascii: "?")), "\(segment) can reshape a path")
    invariant(PercentEncoding.decode(segment) == text, "path segment \(segment) does not decode to \(text)")
    let component = PercentEncoding.encodeQueryComponent(text)
    invariant(PercentEncoding.decode(component, plusAsSpace: true) == text, "query component \(component) does not decode to \(text)")
}

func checkQuery(_ text: String) {
    let pairs = QueryString.parseAll(text)
    let rebuilt = pairs.map { PercentEncoding.encodeQueryComponent($0.name) + "=" + PercentEncoding.encodeQueryComponent($0.value) }
        .joined(separator: "&")
    let again = QueryString.parseAll(rebuilt)
    invariant(again.map(\.name) == pairs.map(\.name) && again.map(\.value) == pairs.map(\.value), "query \(text) rebuilt as \(rebuilt)")
    invariant(pairs.allSatisfy { !$0.name.isEmpty }, "an empty name in \(text)")
}

func checkRoute(_ method: HTTPMethod, _ path: String) {
    let match = router.match(method: method, path: path)
    guard case .found(_, let parameters, let template, _) = match else {
        if case .methodNotAllowed(let allowed) = match { invariant(!allowed.isEmpty && !allowed.contains(method), "allowed \(allowed)") }
        return
    }
    let segments = Router.decodedSegments(of: path)!
    var rebuilt = ""
    let shape = try! Router.parseTemplate(template)
    for (k, part) in shape.enumerated() {
        switch part {
        case .literal(let literal):
            invariant(segments[k] == literal, "literal \(literal) matched \(segments[k])")
            rebuilt += "/" + PercentEncoding.encodePathSegment(literal)
        case .parameter(let name):
            let value = parameters[name]!
            invariant(!value.isEmpty && value == segments[k], "parameter \(name) = \(value)")
            rebuilt += "/" + PercentEncoding.encodePathSegment(value)
        case .rest(let name):
            let value = parameters[name]!
            invariant(value == segments[k...].joined(separator: "/"), "rest \(name) = \(value)")
            rebuilt += "/" + value.split(separator: "/", omittingEmptySubsequences: false).map { PercentEncoding.encodePathSegment(String($0)) }.joined(separator: "/")
        }
    }
    if shape.isEmpty { rebuilt = "/" }
    guard case .found(_, let again, let sameTemplate, _) = router.match(method: method, path: rebuilt) else {
        fatalError("invariant broken: \(path) matched \(template) but \(rebuilt) does not")
    }
    invariant(sameTemplate == template && again == parameters, "\(rebuilt) matched \(sameTemplate) \(again), \(path) matched \(template) \(parameters)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRouterPaths(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        guard let selector = input.first else { return }
        let text = String(decoding: input.dropFirst(), as: UTF8.self)
        checkPercentEncoding(text)
        checkQuery(text)
        let method = methods[Int(selector) % methods.count]
        checkRoute(method, text)
        checkRoute(method, "/" + text)
        if let decoded = Router.decodedSegments(of: "/" + text) {
            invariant(
                decoded.count == ("/" + text).utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).count - 1
                    || decoded.isEmpty, "segment count of \(text)")
        }
    }
    return 0
}
