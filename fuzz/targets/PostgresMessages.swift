@testable import Postgres

// The PostgreSQL backend decoder: the same bytes fed whole and in fuzzer-chosen pieces give the
// same messages and error; every decoded message re-encodes to bytes that decode to itself;
// every column value that decodes (as any supported type, in either format) survives its own
// Bind parameter encoding; the SSL answer reader refuses all but one 'S' or 'N'.

struct Decoded: Equatable {
    var messages: [PostgresBackendMessage] = []
    var error: PostgresProtocolError?
}

// Small, so that inputs reach the length limit.
let maximumMessageLength = 512

func decode(_ bytes: [UInt8], plan: SplitPlan?) -> Decoded {
    var plan = plan
    var decoder = PostgresBackendDecoder(maximumMessageLength: maximumMessageLength)
    var decoded = Decoded()
    var start = 0
    while start < bytes.count {
        let end = nextEnd(after: start, of: bytes.count, plan: &plan)
        decoder.append(bytes[start..<end])
        start = end
        do {
            while let message = try decoder.next() { decoded.messages.append(message) }
        } catch {
            decoded.error = error
            // A failed decoder stays failed.
            decoder.append([0x5A, 0, 0, 0, 5, 0x49])
            let again = Result { () throws(PostgresProtocolError) in try decoder.next() }
            invariant(again == .failure(error), "after \(error): \(again)")
            return decoded
        }
    }
    invariant(decoder.bufferedByteCount < bytes.count + 1, "buffered \(decoder.bufferedByteCount) of \(bytes.count)")
    return decoded
}

let types: [PostgresOID] = [.bool, .bytea, .name, .int8, .int2, .int4, .text, .json, .float8, .varchar, .timestamptz, .uuid, .jsonb, PostgresOID(1700)]

/// Decoded values equal themselves after a trip through their Bind parameter (NaN aside).
func checkValueRoundTrip(_ bytes: [UInt8]?) {
    for type in types {
        for format in [PostgresFormat.text, .binary] {
            guard let value = try? PostgresValue(decoding: bytes, type: type, format: format) else { continue }
            if let double = value.double, double.isNaN { continue }
            let parameter = value.bindParameter
            let again = try? PostgresValue(decoding: parameter.bytes, type: parameter.type, format: parameter.format)
            invariant(again == value, "\(type) \(format): \(value) came back as \(String(describing: again))")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPostgresMessages(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    withInput(data, size) { input in
        guard let seed = input.first else { return }
        let payload = Array(input.dropFirst())
        let whole = decode(payload, plan: nil)
        let split = decode(payload, plan: SplitPlan(seed: seed))
        invariant(whole == split, "whole \(whole) but split \(split)")

        for message in whole.messages {
            let bytes: [UInt8]
            do {
                bytes = try message.encoded()
            } catch {
                invariant(false, "\(message) decoded but does not encode: \(error)")
                return
            }
            let again = decode(bytes, plan: SplitPlan(seed: seed &+ 1))
            invariant(again == Decoded(messages: [message]), "\(message) re-decoded as \(again)")
            if case .dataRow(let columns) = message { columns.forEach(checkValueRoundTrip) }
        }
        checkValueRoundTrip(payload)

        switch Result(catching: { () throws(PostgresProtocolError) in try PostgresSSLResponse.parse(payload) }) {
        case .success(let response):
            invariant((response == nil) == payload.isEmpty, "SSL answer \(String(describing: response)) from \(payload.count) bytes")
            invariant(response == nil || payload.count == 1, "SSL answer accepted with \(payload.count) bytes")
        case .failure:
            invariant(!payload.isEmpty, "SSL answer refused while empty")
        }
    }
    return 0
}
