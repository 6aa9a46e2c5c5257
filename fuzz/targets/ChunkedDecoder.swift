@testable import HTTP

// The chunked decoder: the same bytes fed whole and in fuzzer-chosen pieces decode to the same
// body and outcome, `decodedBytes` counts the body, and a body encoded with ChunkedEncoding
// (pieces drawn from the input) decodes back to itself.

struct Decoded: Equatable {
    var body: [UInt8] = []
    var outcome: ChunkedDecodeResult
}

let limits = HTTPParserLimits(maxChunkLineBytes: 64, maxTrailerBytes: 512)

func decode(_ bytes: [UInt8], plan: SplitPlan?) -> Decoded {
    var plan = plan
    var decoder = ChunkedBodyDecoder(limits: limits)
    var body: [UInt8] = []
    var start = 0
    while true {
        let end = nextEnd(after: start, of: bytes.count, plan: &plan)
        let result = bytes[start..<end].withUnsafeBytes { decoder.decode($0, into: &body) }
        invariant(decoder.decodedBytes == body.count, "decodedBytes \(decoder.decodedBytes) for \(body.count)")
        switch result {
        case .needMoreData(let consumed):
            invariant(consumed == end - start, "needMoreData consumed \(consumed) of \(end - start)")
            start = end
            if end == bytes.count { return Decoded(body: body, outcome: .needMoreData(consumed: start)) }
        case .complete(let consumed):
            invariant(consumed <= end - start, "complete consumed \(consumed) of \(end - start)")
            return Decoded(body: body, outcome: .complete(consumed: start + consumed))
        case .invalid(let error):
            // A failed decoder stays failed.
            let again = bytes[start..<end].withUnsafeBytes { decoder.decode($0, into: &body) }
            invariant(again == .invalid(error), "after \(error): \(again)")
            return Decoded(body: body, outcome: .invalid(error))
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunkedDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        guard let seed = input.first else { return }
        let payload = Array(input.dropFirst())
        let whole = decode(payload, plan: nil)
        let split = decode(payload, plan: SplitPlan(seed: seed))
        // An error may surface with fewer body bytes appended when split; the outcome may not differ.
        switch (whole.outcome, split.outcome) {
        case (.invalid(let a), .invalid(let b)): invariant(a == b, "whole \(a) but split \(b)")
        default: invariant(whole == split, "whole \(whole.outcome) but split \(split.outcome)")
        }

        // Round trip: the payload cut into chunks, encoded, decoded.
        var plan = SplitPlan(seed: seed)
        var encoded: [UInt8] = []
        var i = 0
        while i < payload.count {
            let n = min(payload.count - i, plan.next())
            encoded += ChunkedEncoding.chunk(Array(payload[i..<(i + n)]))
            i += n
        }
        encoded += ChunkedEncoding.lastChunk
        let roundTrip = decode(encoded, plan: SplitPlan(seed: seed &+ 1))
        invariant(roundTrip == Decoded(body: payload, outcome: .complete(consumed: encoded.count)), "round trip gave \(roundTrip.outcome)")
    }
    return 0
}
