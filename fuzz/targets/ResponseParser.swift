@testable import HTTP

// The response-head parser, whole and split at fuzzer-chosen points (same heads, same error),
// then the body framing for each head under a GET and a HEAD request.

enum ResponseOutcome: Equatable {
    case head(HTTPResponseHead, consumed: Int)
    case invalid(HTTPParseError)
    case needMoreData
}

let limits = HTTPParserLimits(maxHeaderBytes: 2_048, maxHeaderCount: 24)

func outcomes(_ bytes: [UInt8], plan: SplitPlan?) -> [ResponseOutcome] {
    var plan = plan
    var parser = HTTPResponseHeadParser(limits: limits)
    var results: [ResponseOutcome] = []
    var start = 0
    while start < bytes.count, results.count < 8 {
        var end = start
        var answered = false
        while !answered {
            end = nextEnd(after: end, of: bytes.count, plan: &plan)
            switch bytes[start..<end].withUnsafeBytes({ parser.parse($0) }) {
            case .needMoreData:
                guard end == bytes.count else { continue }
                results.append(.needMoreData)
                return results
            case .invalid(let error):
                results.append(.invalid(error))
                return results
            case .complete(let head, let consumed):
                invariant(consumed > 0 && consumed <= end - start, "consumed \(consumed) of \(end - start)")
                invariant((100...999).contains(head.status.code), "status \(head.status.code)")
                results.append(.head(head, consumed: consumed))
                start += consumed
                answered = true
            }
        }
    }
    return results
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponseParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        guard let seed = input.first else { return }
        let payload = Array(input.dropFirst())
        let whole = outcomes(payload, plan: nil)
        let split = outcomes(payload, plan: SplitPlan(seed: seed))
        invariant(whole == split, "whole \(whole) but split \(split)")
        for case .head(let head, _) in whole {
            let afterGet = ResponseBodyFraming.framing(of: head, requestMethod: .get)
            let afterHead = ResponseBodyFraming.framing(of: head, requestMethod: .head)
            if case .success(let framing) = afterHead { invariant(framing == .none, "a HEAD response with a body: \(framing)") }
            _ = afterGet
        }
    }
    return 0
}
