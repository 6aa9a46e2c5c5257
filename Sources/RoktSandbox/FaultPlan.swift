/// What faults decided about one request before it runs.
struct Admission: Sendable, Equatable {
    enum Outcome: Sendable, Equatable {
        /// Answer this status (with `Retry-After` when set) instead of the real response.
        case answer(status: Int, retryAfterSeconds: Int?)
        /// Close the connection without any response.
        case drop
    }

    /// Wait this long before processing.
    var delayMilliseconds = 0
    /// Instead of running the request at all.
    var before: Outcome?
    /// After running the request in full, instead of sending its response.
    var after: Outcome?

    static let unaffected = Admission()
}

/// The faults in force and the bookkeeping of their budgets.
///
/// Guarantees: faults strike in the order they were added; each strike spends one unit of
/// budget, and a fault with no budget left is gone; at most one status/drop fault strikes per
/// request (the first that matches), while every matching latency fault adds its delay.
/// Probability draws come from a seeded generator, so a run is reproducible.
struct FaultPlan: Sendable {
    private(set) var active: [ActiveFault] = []
    private var random: SplitMix64
    private var added = 0

    init(randomSeed: UInt64) { random = SplitMix64(seed: randomSeed) }

    var isEmpty: Bool { active.isEmpty }

    mutating func add(_ fault: SandboxFault) -> String {
        added += 1
        let id = "flt_\(added)"
        active.append(ActiveFault(id: id, fault: fault, remaining: fault.initialBudget))
        return id
    }

    mutating func removeAll() { active.removeAll() }

    /// Spends the latency, status and drop faults that match `method` and `path`.
    mutating func admit(method: String, path: String) -> Admission {
        guard !active.isEmpty else { return .unaffected }
        var admission = Admission()
        var decided = false
        for index in active.indices {
            switch active[index].fault {
            case .latency(let fault) where fault.match.matches(method: method, path: path):
                admission.delayMilliseconds += fault.milliseconds
                spend(index)
            case .status(let fault) where !decided && fault.match.matches(method: method, path: path):
                guard fault.probability >= 1 || random.nextUnit() < fault.probability else { continue }
                let outcome = Admission.Outcome.answer(status: fault.status, retryAfterSeconds: fault.retryAfterSeconds)
                if fault.timing == .beforeApplying { admission.before = outcome } else { admission.after = outcome }
                decided = true
                spend(index)
            case .drop(let fault) where !decided && fault.match.matches(method: method, path: path):
                if fault.timing == .beforeApplying { admission.before = .drop } else { admission.after = .drop }
                decided = true
                spend(index)
            default:
                continue
            }
        }
        pruneSpent()
        return admission
    }

    /// The polls of the first pending-operations fault matching this write, spending it.
    mutating func takePendingOperation(method: String, path: String) -> Int? {
        for index in active.indices {
            guard case .pendingOperations(let fault) = active[index].fault, fault.match.matches(method: method, path: path) else { continue }
            spend(index)
            pruneSpent()
            return max(0, fault.polls)
        }
        return nil
    }

    /// The variants that stay put in this cascade of `accountId`, spending one cascade of
    /// every matching fault.
    mutating func takeStuckVariants(accountId: String) -> Set<String> {
        var stuck: Set<String> = []
        for index in active.indices {
            guard case .stuckVariants(let fault) = active[index].fault, fault.accountId == accountId else { continue }
            stuck.formUnion(fault.variantIds)
            spend(index)
        }
        pruneSpent()
        return stuck
    }

    /// The foreign edit to apply after this GET of `accountId`'s controls, spending it.
    mutating func takeForeignEdit(accountId: String) -> ForeignControlsEdit? {
        for index in active.indices {
            guard case .foreignEdit(let edit) = active[index].fault, edit.accountId == accountId else { continue }
            spend(index)
            pruneSpent()
            return edit
        }
        return nil
    }

    private mutating func spend(_ index: Int) {
        if let remaining = active[index].remaining { active[index].remaining = remaining - 1 }
    }

    private mutating func pruneSpent() {
        active.removeAll { ($0.remaining ?? 1) <= 0 }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator for fault probabilities.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
