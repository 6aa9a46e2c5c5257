@testable import HTTP

// The request-head parser, fed whole and fed in pieces at fuzzer-chosen points: both must give
// the same sequence of heads (pipelined requests) and the same error. Every head parsed is
// serialized again and must parse back to itself; framing is decided for it without a trap.

enum RequestOutcome: Equatable {
    case head(HTTPRequestHead, consumed: Int, framing: Result<RequestBodyFraming, HTTPParseError>)
    case invalid(HTTPParseError)
    case needMoreData
}

let limits = HTTPParserLimits(maxHeaderBytes: 2_048, maxRequestTargetBytes: 512, maxHeaderCount: 24)

func outcomes(_ bytes: [UInt8], plan: SplitPlan?) -> [RequestOutcome] {
    var plan = plan
    var parser = HTTPRequestHeadParser(limits: limits)
    var results: [RequestOutcome] = []
    var start = 0
    while start < bytes.count, results.count < 8 {
        var end = start
        var answered = false
        while !answered {
            end = nextEnd(after: end, of: bytes.count, plan: &plan)
            let result = bytes[start..<end].withUnsafeBytes { parser.parse($0) }
            switch result {
            case .needMoreData:
                guard end == bytes.count else { continue }
                results.append(.needMoreData)
                return results
            case .invalid(let error):
                results.append(.invalid(error))
                return results
            case .complete(let head, let consumed):
                invariant(consumed > 0 && consumed <= end - start, "consumed \(consumed) of \(end - start)")
                results.append(.head(head, consumed: consumed, framing: RequestBodyFraming.framing(of: head)))
                start += consumed
                answered = true
            }
        }
    }
    return results
}

func checkRoundTrip(_ head: HTTPRequestHead) {
    guard head.version == .http1_1 else { return }
    var out: [UInt8] = []
    HTTPSerializer.requestHead(method: head.method, target: head.target, headers: head.headers, into: &out)
    var parser = HTTPRequestHeadParser(limits: HTTPParserLimits(maxHeaderBytes: 1 << 20, maxRequestTargetBytes: 1 << 20, maxHeaderCount: 1 << 10))
    let again = out.withUnsafeBytes { parser.parse($0) }
    invariant(again == .complete(head, consumed: out.count), "\(head) serialized as \(String(decoding: out, as: UTF8.self)) parses as \(again)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        guard let seed = input.first else { return }
        let payload = Array(input.dropFirst())
        let whole = outcomes(payload, plan: nil)
        let split = outcomes(payload, plan: SplitPlan(seed: seed))
        invariant(whole == split, "whole \(whole) but split \(split)")
        for case .head(let head, _, let framing) in whole {
            if case .success(.contentLength(let length)) = framing { invariant(length >= 0, "negative length") }
            checkRoundTrip(head)
        }
    }
    return 0
}
