@testable import Postgres

/// Builds expected wire bytes the way the protocol docs write them: hex for integers, ASCII
/// for strings (`cString` adds the NUL).
enum WireBytes {
    /// "00 00 00 08" → [0, 0, 0, 8].
    static func hex(_ text: String) -> [UInt8] {
        text.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    static func int32(_ value: Int32) -> [UInt8] {
        let v = UInt32(bitPattern: value)
        return [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// A backend message: type, length (payload + 4), payload.
    static func message(_ type: Character, _ payload: [UInt8]) -> [UInt8] {
        [type.asciiValue!] + int32(Int32(payload.count + 4)) + payload
    }
}

/// A deterministic generator (SplitMix64) for random splits a failing test can reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What feeding a byte stream to a decoder in given pieces produced.
struct DecodeOutcome: Equatable {
    var messages: [PostgresBackendMessage] = []
    var error: PostgresProtocolError?
    var leftover = 0

    /// Appends each piece and takes every complete message, as a connection does per read.
    static func feed(_ pieces: [[UInt8]], maximumMessageLength: Int = PostgresBackendDecoder.defaultMaximumMessageLength) -> DecodeOutcome {
        var decoder = PostgresBackendDecoder(maximumMessageLength: maximumMessageLength)
        var outcome = DecodeOutcome()
        for piece in pieces {
            decoder.append(piece)
            do {
                while let message = try decoder.next() { outcome.messages.append(message) }
            } catch {
                outcome.error = error
                return outcome
            }
        }
        outcome.leftover = decoder.bufferedByteCount
        return outcome
    }

    static func whole(_ bytes: [UInt8], maximumMessageLength: Int = PostgresBackendDecoder.defaultMaximumMessageLength) -> DecodeOutcome {
        feed([bytes], maximumMessageLength: maximumMessageLength)
    }

    static func byteByByte(_ bytes: [UInt8]) -> DecodeOutcome { feed(bytes.map { [$0] }) }

    /// Pieces of 1…maxPiece bytes drawn from `seed`.
    static func randomSplits(_ bytes: [UInt8], seed: UInt64, maxPiece: Int = 17) -> DecodeOutcome {
        var generator = SeededGenerator(seed: seed)
        var pieces: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let n = min(bytes.count - i, Int.random(in: 1...maxPiece, using: &generator))
            pieces.append(Array(bytes[i..<(i + n)]))
            i += n
        }
        return feed(pieces)
    }
}
