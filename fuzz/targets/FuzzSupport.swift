// Shared by every fuzz target (compiled into each one): input splitting and invariant checks.

/// Stops the run with a message libFuzzer shows next to the crashing input.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// Piece lengths for feeding an input in several reads, drawn from a seed the fuzzer controls
/// (the input's first byte), so a failing split is reproduced by the same input.
struct SplitPlan {
    private var state: UInt32
    private let maxPiece: Int

    init(seed: UInt8, maxPiece: Int = 24) {
        state = UInt32(seed) &* 2_654_435_761 | 1
        self.maxPiece = seed & 0x80 != 0 ? 1 : maxPiece  // half the seeds feed byte by byte
    }

    mutating func next() -> Int {
        state = state &* 1_103_515_245 &+ 12_345
        return 1 + Int((state >> 16) % UInt32(maxPiece))
    }
}

/// Calls `body` with the fuzzer's bytes as an array (the input is borrowed only for this call).
func withInput(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: ([UInt8]) -> Void) {
    guard let data, size > 0 else { body([]); return }
    body(Array(UnsafeBufferPointer(start: data, count: size)))
}

/// Where the next read ends: all of the input without a plan, one more piece with one.
func nextEnd(after end: Int, of count: Int, plan: inout SplitPlan?) -> Int {
    guard plan != nil else { return count }
    return min(count, end + plan!.next())
}
