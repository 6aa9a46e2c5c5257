"""The chaos run's bookkeeping, without I/O (bench/chaos.py does the I/O): the blocks each writer
owns, the requests that change them, the states each block may be in once the operations of a
request ended, and the comparison with the sandbox's final controls. bench/chaos_model_test.py
tests these rules.

The rule, per item (one block one writer owns):
- `possible` starts as {absent} (no item is in the seed).
- A request with a succeeded operation sets it to {the request's effect} (add: present, remove:
  absent).
- A request whose operations all failed with conflict_retries_exhausted leaves it unchanged:
  every PUT was refused with 409 on a stale hash, so nothing was written.
- Any other ending (a failure that may have reached Rokt, such as upstream_unavailable or
  outcome_unknown; an operation that vanished; an answer never seen) adds the effect to it.
- The sandbox's final state must be in `possible`: outside it, a present block is a phantom and
  an absent one a lost change.
Blocks no writer owns must be the seed's, plus one foreign-edit-N.example.com per fired foreign
edit: anything else is a phantom, a missing one lost (foreign edits are never overwritten)."""

NOT_APPLIED = {"conflict_retries_exhausted"}
MAY_HAVE_APPLIED = {"upstream_unavailable", "outcome_unknown"}


class Item:
    """One block a single writer owns: a domain or a vertical pair on one merchant."""

    def __init__(self, merchant, domain=None, pair=None):
        self.merchant, self.domain, self.pair = merchant, domain, pair
        self.possible = {False}

    @property
    def name(self):
        return self.domain or self.pair

    def __repr__(self):
        return f"{self.merchant}:{self.domain or '%d/%d' % self.pair}"

    def single_request(self, add):
        """(method, path, body) adding or removing this block alone."""
        base = f"/v1/merchants/{self.merchant}/controls"
        if self.domain:
            return ("POST", base + "/blocked-domains", {"domain": self.domain}) if add else \
                   ("DELETE", f"{base}/blocked-domains/{self.domain}", None)
        vertical, sub = self.pair
        return ("POST", base + "/blocked-verticals", {"partnerVerticalId": vertical, "partnerSubVerticalId": sub}) if add else \
               ("DELETE", f"{base}/blocked-verticals/{vertical}?partnerSubVerticalId={sub}", None)


def owned_items(writers, merchants):
    """Writer w owns, on every merchant, w<w>-d0/d1.chaos.example and the pairs (1520+w, 1600/1601)."""
    return {w: [Item(m, domain=f"w{w}-d{k}.chaos.example") for m in merchants for k in range(2)] +
               [Item(m, pair=(1520 + w, 1600 + k)) for m in merchants for k in range(2)]
            for w in range(writers)}


def batch_request(merchant, changes):
    """(method, path, body): one PATCH applying several (item, add) of one merchant."""
    body = {"add": {"verticals": [], "domains": []}, "remove": {"verticals": [], "domains": []}}
    for item, add in changes:
        side = body["add" if add else "remove"]
        if item.domain:
            side["domains"].append(item.domain)
        else:
            side["verticals"].append({"partnerVerticalId": item.pair[0], "partnerSubVerticalId": item.pair[1]})
    return "PATCH", f"/v1/merchants/{merchant}/controls", body


def settle(changes, endings):
    """Applies the endings of one answered request (operation documents, None for one that never
    ended or vanished) to its items; returns the violations [(kind, detail)] they show."""
    violations = []
    codes = [(e.get("error") or {}).get("code") for e in endings if e and e["state"] == "failed"]
    for code in codes:
        if code not in NOT_APPLIED | MAY_HAVE_APPLIED:
            violations.append(("illegitimate failures", f"{code} for {changes}"))
    succeeded = [e for e in endings if e and e["state"] == "succeeded"]
    if succeeded:
        # `changed` must say whether the request changed what it read; known when no item is in doubt.
        if all(len(item.possible) == 1 for item, _ in changes):
            would_change = any(add not in item.possible for item, add in changes)
            for ending in succeeded:
                if ending.get("changed") != would_change:
                    violations.append(("wrong changed flags", f"{ending['id']} changed={ending.get('changed')} for {changes}"))
        for item, add in changes:
            item.possible = {add}
    elif not endings or None in endings or any(code not in NOT_APPLIED for code in codes):
        for item, add in changes:
            item.possible = item.possible | {add}
    return violations


def compare(merchant, actual, items, seeded):
    """One merchant's final blocks of one kind against the items and the seed.
    actual, seeded: sets of names (domains, or (vertical, sub) pairs); items: {name: Item}.
    Returns (violations [(kind, detail)], the foreign-edit domains found)."""
    violations, foreign = [], set()
    for name, item in items.items():
        present = name in actual
        if present not in item.possible:
            violations.append(("phantom changes" if present else "lost changes", f"{item} (may be present: {sorted(item.possible)})"))
    for name in seeded - actual:
        violations.append(("lost changes", f"{merchant}: seed block {name}"))
    for name in actual - seeded - set(items):
        if isinstance(name, str) and name.startswith("foreign-edit-"):
            foreign.add(name)
        else:
            violations.append(("phantom changes", f"{merchant}: unknown block {name}"))
    return violations, foreign


def compare_foreign_edits(fired, found):
    """The sandbox numbers the domains its foreign edits add 1, 2, …: `fired` of them must be there."""
    expected = {f"foreign-edit-{n}.example.com" for n in range(1, fired + 1)}
    return [("lost changes", f"foreign edit {name} overwritten") for name in sorted(expected - found)] + \
           [("phantom changes", f"foreign edit {name} never fired") for name in sorted(found - expected)]
