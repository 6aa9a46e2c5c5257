#!/usr/bin/env python3
"""Tests of the chaos run's rules (bench/chaos_model.py): a checker that cannot fail proves
nothing. bench/chaos.sh runs them before every run; `python3 bench/chaos_model_test.py` alone."""
import os, sys, unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_model import Item, batch_request, compare, compare_foreign_edits, owned_items, settle


def ending(state, changed=None, code=None, id="op_1"):
    return {"id": id, "state": state, "changed": changed, "error": {"code": code} if code else None}


class SettleTests(unittest.TestCase):
    def test_a_succeeded_request_decides_the_state(self):
        item = Item("m", domain="a.example")
        self.assertEqual(settle([(item, True)], [ending("succeeded", changed=True)]), [])
        self.assertEqual(item.possible, {True})
        self.assertEqual(settle([(item, False)], [ending("succeeded", changed=True)]), [])
        self.assertEqual(item.possible, {False})

    def test_a_conflict_failure_changes_nothing_and_is_legitimate(self):
        item = Item("m", domain="a.example")
        self.assertEqual(settle([(item, True)], [ending("failed", code="conflict_retries_exhausted")]), [])
        self.assertEqual(item.possible, {False})

    def test_an_ambiguous_ending_makes_both_states_possible(self):
        for endings in ([ending("failed", code="outcome_unknown")], [None], []):
            item = Item("m", pair=(1520, 1600))
            self.assertEqual(settle([(item, True)], endings), [])
            self.assertEqual(item.possible, {False, True})

    def test_an_unexpected_failure_code_is_a_violation(self):
        item = Item("m", domain="a.example")
        violations = settle([(item, True)], [ending("failed", code="upstream_rejected")])
        self.assertEqual([kind for kind, _ in violations], ["illegitimate failures"])
        self.assertEqual(item.possible, {False, True})

    def test_changed_must_match_a_known_state(self):
        item = Item("m", domain="a.example")
        self.assertEqual(settle([(item, False)], [ending("succeeded", changed=False)]), [])
        self.assertEqual([k for k, _ in settle([(item, True)], [ending("succeeded", changed=False)])], ["wrong changed flags"])
        other = Item("m", domain="b.example")
        # A batch changed when any of its items changed.
        self.assertEqual(settle([(item, True), (other, False)], [ending("succeeded", changed=False)]), [])
        self.assertEqual(settle([(item, False), (other, False)], [ending("succeeded", changed=True)]), [])
        self.assertEqual(item.possible, {False})

    def test_changed_is_not_judged_while_the_state_is_in_doubt(self):
        item = Item("m", domain="a.example")
        item.possible = {False, True}
        self.assertEqual(settle([(item, True)], [ending("succeeded", changed=False)]), [])
        self.assertEqual(item.possible, {True})


class CompareTests(unittest.TestCase):
    def setUp(self):
        self.present, self.absent = Item("m", domain="p.example"), Item("m", domain="a.example")
        self.present.possible = {True}
        self.items = {"p.example": self.present, "a.example": self.absent}

    def kinds(self, actual, seeded=frozenset()):
        violations, foreign = compare("m", set(actual), self.items, set(seeded))
        return sorted(kind for kind, _ in violations), foreign

    def test_exactly_the_expected_blocks_pass(self):
        self.assertEqual(self.kinds({"p.example", "seed.example", "foreign-edit-2.example.com"}, {"seed.example"}),
                         ([], {"foreign-edit-2.example.com"}))

    def test_a_lost_change_a_phantom_and_a_stranger_are_caught(self):
        self.assertEqual(self.kinds(set())[0], ["lost changes"])
        self.assertEqual(self.kinds({"p.example", "a.example"})[0], ["phantom changes"])
        self.assertEqual(self.kinds({"p.example", "who.example"})[0], ["phantom changes"])
        self.assertEqual(self.kinds({"p.example"}, {"seed.example"})[0], ["lost changes"])

    def test_a_doubtful_item_may_be_either(self):
        self.absent.possible = {False, True}
        self.assertEqual(self.kinds({"p.example", "a.example"})[0], [])
        self.assertEqual(self.kinds({"p.example"})[0], [])

    def test_foreign_edits_must_all_survive_and_none_appear_from_nowhere(self):
        found = {"foreign-edit-1.example.com", "foreign-edit-3.example.com"}
        self.assertEqual([(k, d.split()[2]) for k, d in compare_foreign_edits(2, found)],
                         [("lost changes", "foreign-edit-2.example.com"), ("phantom changes", "foreign-edit-3.example.com")])
        self.assertEqual(compare_foreign_edits(3, found | {"foreign-edit-2.example.com"}), [])


class RequestTests(unittest.TestCase):
    def test_writers_own_disjoint_items_and_requests_name_them(self):
        items = owned_items(3, ["m1", "m2"])
        names = [(i.merchant, i.name) for w in items.values() for i in w]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(len(names), 3 * 2 * 4)
        vertical = Item("m1", pair=(1521, 1601))
        self.assertEqual(vertical.single_request(False)[1], "/v1/merchants/m1/controls/blocked-verticals/1521?partnerSubVerticalId=1601")
        method, path, body = batch_request("m1", [(vertical, True), (Item("m1", domain="x.example"), False)])
        self.assertEqual((method, path), ("PATCH", "/v1/merchants/m1/controls"))
        self.assertEqual(body, {"add": {"verticals": [{"partnerVerticalId": 1521, "partnerSubVerticalId": 1601}], "domains": []},
                                "remove": {"verticals": [], "domains": ["x.example"]}})


if __name__ == "__main__":
    unittest.main()
