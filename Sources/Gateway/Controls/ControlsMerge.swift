import Rokt

/// The SET-semantics merge: the caller's change applied to the full state read from Rokt,
/// producing the full state to PUT back. Pure, so every rule is unit-tested without Rokt.
///
/// Guarantees: blocks nobody asked to touch are kept, in their order; adding what is there or
/// removing what is absent changes nothing; a replacement based on a stale contentHash is a
/// conflict, never an overwrite.
public enum ControlsMerge {
    public enum Outcome: Equatable, Sendable {
        case applied(changed: Bool)
        /// A replacement whose expected contentHash is not the state it would replace.
        case conflict(expected: String, actual: String?, viaIfMatch: Bool)
    }

    /// Applies `changes` in order to `state` (as read, with its contentHash); one outcome per change.
    public static func apply(_ changes: [ControlsChange], to state: MarketplaceControls) -> (outcomes: [Outcome], result: MarketplaceControls) {
        var current = state
        var touched = false
        var outcomes: [Outcome] = []
        for change in changes {
            if case .replace(let replacement) = change, let expected = replacement.expectedHash,
                touched || expected != state.contentHash
            {
                // Earlier changes in this batch, or anyone else, moved the state past what the caller saw.
                outcomes.append(.conflict(expected: expected, actual: touched ? nil : state.contentHash, viaIfMatch: replacement.viaIfMatch))
                continue
            }
            let next = apply(change, to: current)
            let changed = !next.sameBlocks(as: current)
            if changed { touched = true }
            current = next
            outcomes.append(.applied(changed: changed))
        }
        return (outcomes, current)
    }

    /// One change, unconditionally (hash checks are `apply(_:to:)`'s job).
    public static func apply(_ change: ControlsChange, to state: MarketplaceControls) -> MarketplaceControls {
        var result = state
        switch change {
        case .addVertical(let pair):
            addVertical(pair, to: &result)
        case .removeVertical(let vertical, let subVertical):
            removeVertical(vertical, subVertical, from: &result)
        case .addDomain(let domain):
            addDomain(domain, to: &result)
        case .removeDomain(let domain):
            result.domains.removeAll { $0.domain == domain }
        case .batch(let batch):
            // Removes first, then adds: a batch that removes and re-adds a block keeps it.
            for removal in batch.removeVerticals { removeVertical(removal.vertical, removal.subVertical, from: &result) }
            for domain in batch.removeDomains { result.domains.removeAll { $0.domain == domain } }
            for pair in batch.addVerticals { addVertical(pair, to: &result) }
            for domain in batch.addDomains { addDomain(domain, to: &result) }
        case .replace(let replacement):
            if let name = replacement.name { result.name = name }
            result.blockedVerticals = []
            result.domains = []
            for pair in replacement.verticals { addVertical(pair, to: &result) }
            for domain in replacement.domains { addDomain(domain, to: &result) }
        }
        return result
    }

    private static func addVertical(_ pair: VerticalPair, to state: inout MarketplaceControls) {
        guard !state.blockedVerticals.contains(where: { $0.pair == pair }) else { return }
        state.blockedVerticals.append(BlockedVertical(partnerVerticalId: pair.vertical, partnerSubVerticalId: pair.subVertical))
    }

    private static func removeVertical(_ vertical: Int, _ subVertical: Int?, from state: inout MarketplaceControls) {
        state.blockedVerticals.removeAll {
            $0.partnerVerticalId == vertical && (subVertical == nil || $0.partnerSubVerticalId == subVertical)
        }
    }

    private static func addDomain(_ domain: String, to state: inout MarketplaceControls) {
        guard !state.domains.contains(where: { $0.domain == domain }) else { return }
        state.domains.append(BlockedDomain(domain: domain))
    }

    /// What a change did, for previews and `controls.changed` events.
    public static func difference(from before: MarketplaceControls, to after: MarketplaceControls) -> ControlsDifference {
        let beforeVerticals = Set(before.blockedVerticals.map(\.pair)), afterVerticals = Set(after.blockedVerticals.map(\.pair))
        let beforeDomains = Set(before.domains.map(\.domain)), afterDomains = Set(after.domains.map(\.domain))
        return ControlsDifference(
            addedVerticals: after.blockedVerticals.map(\.pair).filter { !beforeVerticals.contains($0) },
            removedVerticals: before.blockedVerticals.map(\.pair).filter { !afterVerticals.contains($0) },
            addedDomains: after.domains.map(\.domain).filter { !beforeDomains.contains($0) },
            removedDomains: before.domains.map(\.domain).filter { !afterDomains.contains($0) })
    }
}

/// Blocks added and removed between two states.
public struct ControlsDifference: Equatable, Sendable {
    public var addedVerticals: [VerticalPair]
    public var removedVerticals: [VerticalPair]
    public var addedDomains: [String]
    public var removedDomains: [String]
    public var isEmpty: Bool { addedVerticals.isEmpty && removedVerticals.isEmpty && addedDomains.isEmpty && removedDomains.isEmpty }
}
