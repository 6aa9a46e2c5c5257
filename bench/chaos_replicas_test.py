#!/usr/bin/env python3
"""Tests of the multi-replica chaos run's pure parts (bench/chaos_replicas.py): the HAProxy
configuration and the classification of synchronous answers. bench/chaos.sh runs them before
every run; `python3 bench/chaos_replicas_test.py` alone."""
import os, shutil, subprocess, sys, tempfile, unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_replicas import classify_sync_answers, haproxy_config, ran_by

RUNNERS = {"rq_a": "replica-1", "rq_b": "replica-2"}


def operation(state="succeeded", updated="2026-12-05T10:00:00Z", calls=("rq_a",)):
    return {"id": "op_1", "state": state, "updatedAt": updated,
            "upstream": [{"method": "PUT", "path": "/x", "requestId": r} for r in calls]}


def answer(replica, ended, at, final):
    return {"operation": "op_1", "replica": replica, "ended": ended, "at": at, "final": final}


AT_END = 1796464800.0  # 2026-12-05T10:00:00Z


class RanByTests(unittest.TestCase):
    def test_the_last_logged_call_names_the_runner(self):
        self.assertEqual(ran_by(operation(calls=("rq_a", "rq_b")), RUNNERS), "replica-2")

    def test_calls_the_sandbox_did_not_log_are_skipped(self):
        self.assertEqual(ran_by(operation(calls=("rq_a", "rq_dropped")), RUNNERS), "replica-1")

    def test_no_calls_or_no_operation_name_nobody(self):
        self.assertIsNone(ran_by(operation(calls=()), RUNNERS))
        self.assertIsNone(ran_by(None, RUNNERS))


class SyncAnswerTests(unittest.TestCase):
    def test_an_ended_answer_from_another_replica_is_cross_replica(self):
        counts, violations = classify_sync_answers(
            [answer("replica-2", True, AT_END, operation()), answer("replica-1", True, AT_END, operation()),
             answer("replica-1", True, AT_END, operation(calls=()))], RUNNERS, slack=3)
        self.assertEqual(violations, [])
        self.assertEqual((counts["answers"], counts["ended when answered"]), (3, 3))
        self.assertEqual((counts["cross-replica"], counts["same replica"], counts["runner unknown"]), (1, 1, 1))

    def test_a_pending_answer_long_after_the_end_missed_the_wake_up(self):
        counts, violations = classify_sync_answers([answer("replica-2", False, AT_END + 8, operation())], RUNNERS, slack=3)
        self.assertEqual(counts["pending when answered"], 1)
        self.assertEqual([kind for kind, _ in violations], ["sync callers not woken"])
        self.assertIn("ran on replica-1", violations[0][1])

    def test_a_pending_answer_within_the_slack_or_before_the_end_is_legitimate(self):
        answers = [answer("replica-2", False, AT_END + 2, operation()), answer("replica-2", False, AT_END - 5, operation()),
                   answer("replica-2", False, AT_END + 8, None)]
        counts, violations = classify_sync_answers(answers, RUNNERS, slack=3)
        self.assertEqual((counts["pending when answered"], violations), (3, []))


class HAProxyConfigTests(unittest.TestCase):
    config = haproxy_config(18000, [("replica-1", 18001), ("replica-2", 18002)],
                            [("replica-1", 18011), ("replica-2", 18012)], 18020)

    def test_health_checks_readyz_and_names_the_replica(self):
        for line in ("option httpchk GET /readyz", "default-server inter 500ms fall 2 rise 1",
                     "http-response set-header X-Replica %[srv_name]", "balance roundrobin",
                     "server replica-2 127.0.0.1:18002 check"):
            self.assertIn(line, self.config)

    def test_only_connection_failures_are_retried(self):
        retry = [line.strip() for line in self.config.splitlines() if line.strip().startswith("retry-on")]
        self.assertEqual(retry, ["retry-on conn-failure"])

    def test_each_replica_has_its_own_relay_to_the_sandbox(self):
        self.assertIn("listen rokt-via-replica-1\n    mode tcp\n    bind 127.0.0.1:18011", self.config)
        self.assertEqual(self.config.count("server sandbox 127.0.0.1:18020"), 2)

    @unittest.skipUnless(shutil.which("haproxy"), "haproxy is not installed")
    def test_haproxy_accepts_it(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cfg") as f:
            f.write(self.config)
            f.flush()
            result = subprocess.run(["haproxy", "-c", "-f", f.name], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("WARNING", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
