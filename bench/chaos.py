#!/usr/bin/env python3
"""Chaos run of the gateway (bench/chaos.sh starts it): writers change blocked domains and
verticals through `rokt-gateway serve` while the gateway is SIGKILLed and restarted on the same
port and database, and `rokt-sandbox` injects 503s, 429s with Retry-After, drops after applying,
latency and foreign edits. At the end every accepted operation must have ended, and the sandbox
must hold exactly the accepted changes. Exits 1 on any violation, 2 when the run itself broke.

Writer i owns, on each merchant, the domains w<i>-d<k>.chaos.example and the vertical pairs
(1520+i, 1600+k); nobody else touches them (foreign edits rename the controls or add the
sandbox's own foreign-edit-N.example.com). A writer has one request in flight at a time: it sends
it with a fresh Idempotency-Key and re-sends that key, unchanged, until it is answered with an
operation (connection refused or reset, 5xx and 409 idempotency_key_in_flight are not answers),
then polls every operation its key answered with until each has ended. So the requests on one
block are totally ordered, and bench/chaos_model.py's rule says which states each block may be in
at the end: the sandbox must hold one of them (none lost, none phantom).

Other checks: no upstream Idempotency-Key was sent with two different method+path+query+body
(the sandbox's request log, drained every half second by a DELETE that answers what it removed);
no inbound Idempotency-Key answered two different operations (writers re-send some keys after
the answer, while the operation runs or after it ended, to ask); the gateway holds no operation
that no key was answered with; it exits 0 on SIGTERM at the end.

`--replicas N` runs N gateways on one PostgreSQL behind HAProxy instead (bench/chaos_replicas.py:
replicas killed in turn, a third of the writers synchronous, cross-replica answers counted).

Only loopback addresses are contacted; every wait has a deadline."""
import argparse, collections, hashlib, http.client, json, os, random, shlex, shutil, signal
import sys, tempfile, threading, time, uuid
from chaos_processes import Gateway, call, free_port, start_sandbox
from chaos_model import batch_request, compare, compare_foreign_edits, owned_items, settle
import chaos_replicas

MERCHANTS = ["demo-merchant-1", "demo-merchant-2", "demo-merchant-3"]
CONTROLS_PATH = "/v1/partnership/accounts/*/marketplacecontrolslists"
# (name, weight, fault JSON); at most MAX_ACTIVE_FAULTS wait at a time. Latency keeps PUTs in
# flight at Rokt longer, so more kills land between sending a write and hearing its answer.
FAULTS = [
    ("503", 3, {"kind": "status", "method": "PUT", "path": CONTROLS_PATH, "status": 503}),
    ("503 after applying", 2, {"kind": "status", "method": "PUT", "path": CONTROLS_PATH, "status": 503, "timing": "afterApplying"}),
    ("503 on GET", 1, {"kind": "status", "method": "GET", "path": CONTROLS_PATH, "status": 503}),
    ("429 Retry-After: 1", 2, {"kind": "status", "path": CONTROLS_PATH, "status": 429, "retryAfter": 1}),
    ("drop after applying", 3, {"kind": "drop", "method": "PUT", "path": CONTROLS_PATH, "timing": "afterApplying"}),
    ("drop GET", 1, {"kind": "drop", "method": "GET", "path": CONTROLS_PATH}),
    ("latency 300 ms on PUT", 1, {"kind": "latency", "method": "PUT", "path": CONTROLS_PATH, "milliseconds": 300, "count": 3}),
    ("foreign edit (domain)", 2, {"kind": "foreignEdit"}),
    ("foreign edit (rename)", 2, {"kind": "foreignEdit", "name": "renamed"}),
]
MAX_ACTIVE_FAULTS = 6


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.violations = collections.defaultdict(list)

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def violation(self, kind, detail):
        with self.lock:
            self.violations[kind].append(detail)


class Chaos:
    def __init__(self, args, sandbox_port, gateway, api_key):
        self.args, self.sandbox_port, self.gateway = args, sandbox_port, gateway
        self.auth = {"Authorization": f"Bearer {api_key}"}
        self.stats = Stats()
        self.stop_chaos = threading.Event()   # kills and faults stop; writers start nothing new
        self.stop_drain = threading.Event()
        self.hard_deadline = float("inf")     # set when the settle phase starts
        self.broken = []                      # exceptions that ended a thread of the run
        self.lock = threading.Lock()
        self.key_operations = collections.defaultdict(set)   # inbound key -> operation ids it answered
        self.operation_keys = collections.defaultdict(set)
        self.upstream_payloads = collections.defaultdict(set)  # upstream key -> payload digests
        self.injected = collections.Counter()
        self.fault_ids = {}  # sandbox fault id -> name
        self.items = owned_items(args.writers, MERCHANTS)
        # --replicas: the replica each sandbox request came from, and the synchronous answers.
        self.replica_of_host = gateway.balancer.replica_of_host() if args.replicas else {}
        self.replica_of_request = {}
        self.sync_answers = []

    def thread(self, target, *args):
        """A daemon thread whose exception breaks the run instead of vanishing."""
        def run():
            try:
                target(*args)
            except Exception as error:
                self.broken.append(f"{target.__name__}: {error!r}")
                self.stop_chaos.set()
        return threading.Thread(target=run, daemon=True)

    # Sandbox admin
    def sandbox(self, method, path, body=None):
        status, _, doc = call(self.sandbox_port, method, "/__sandbox" + path, body, timeout=30)
        if status not in (200, 201):
            raise RuntimeError(f"sandbox {method} {path} answered {status}: {doc}")
        return doc

    def blocks(self, merchant):
        controls = self.sandbox("GET", f"/accounts/{merchant}")["controls"]
        return ({d["domain"] for d in controls.get("domains") or []},
                {(v["partnerVerticalId"], v["partnerSubVerticalId"]) for v in controls.get("blockedVerticals") or []})

    def drain_log(self):
        entries = self.sandbox("DELETE", "/requests")["requests"]  # answers what it cleared: nothing missed
        self.stats.add("upstream requests logged", len(entries))
        for entry in entries:
            if entry.get("fault"):
                self.stats.add(f"upstream requests struck by {entry['fault']}")
            replica = self.replica_of_host.get(next((h["value"] for h in entry["headers"] if h["name"].lower() == "host"), None))
            if replica:
                with self.lock:
                    self.replica_of_request[entry["requestId"]] = replica
            key = next((h["value"] for h in entry["headers"] if h["name"].lower() == "idempotency-key"), None)
            if key is None:
                continue
            self.stats.add("upstream writes")
            if entry.get("replayed"):
                self.stats.add("upstream replays")
            payload = json.dumps([entry["method"], entry["path"], sorted(entry["query"].items()), entry["body"]])
            with self.lock:
                self.upstream_payloads[key].add(hashlib.sha256(payload.encode()).hexdigest())

    # The chaos
    def killer(self):
        rng = random.Random(self.args.seed)
        while not self.stop_chaos.wait(rng.uniform(1.5, 3.5)):
            self.gateway.kill()
            self.stats.add("kills")
            self.restart()

    def restart(self):
        for attempt in range(5):
            if self.gateway.start():
                self.stats.add("restarts")
                return
            self.stats.add("failed starts")
            if self.gateway.process.poll() is None:
                self.gateway.kill()
        raise RuntimeError("the gateway did not start 5 times in a row (see gateway.log)")

    def injector(self):
        rng = random.Random(self.args.seed + 1)
        names, weights = [f[0] for f in FAULTS], [f[1] for f in FAULTS]
        while not self.stop_chaos.wait(rng.uniform(0.2, 0.6)):
            if len(self.sandbox("GET", "/faults")["faults"]) >= MAX_ACTIVE_FAULTS:
                continue
            name = rng.choices(names, weights)[0]
            fault = dict(dict((f[0], f[2]) for f in FAULTS)[name])
            if fault["kind"] == "foreignEdit":
                fault["accountId"] = rng.choice(MERCHANTS)
                if "name" in fault:
                    fault["name"] = f"Renamed by someone else {rng.randrange(10**6)}"
            active = self.sandbox("POST", "/faults", fault)
            self.fault_ids[active["id"]] = name
            self.injected[name] += 1

    def drainer(self):
        while not self.stop_drain.wait(0.5):
            self.drain_log()

    # Writers
    def writer(self, w):
        rng = random.Random(self.args.seed * 1000 + w)
        items = self.items[w]
        prefer = chaos_replicas.SYNC_PREFERENCE if self.args.replicas and w % chaos_replicas.SYNC_EVERY == 0 else "respond-async"
        while not self.stop_chaos.is_set():
            if rng.random() < 0.2:
                merchant = rng.choice(MERCHANTS)
                chosen = rng.sample([i for i in items if i.merchant == merchant], rng.randint(2, 3))
                changes = [(item, self.choose(item, rng)) for item in chosen]
                method, path, body = batch_request(merchant, changes)
            else:
                item = rng.choice(items)
                changes = [(item, self.choose(item, rng))]
                method, path, body = item.single_request(changes[0][1])
            self.request(method, path, body, changes, rng, prefer)

    @staticmethod
    def choose(item, rng):
        """Mostly a change (toggle), sometimes a no-op, at random when the state is unknown."""
        if len(item.possible) == 1:
            present = next(iter(item.possible))
            return (not present) if rng.random() < 0.8 else present
        return rng.random() < 0.5

    def request(self, method, path, body, changes, rng, prefer):
        key = f"chaos-{uuid.uuid4()}"
        self.stats.add("writes sent")
        answer = {}
        first = self.send(method, path, body, key, prefer, answer)
        if first is None:
            return  # refused: nothing was accepted, the items are unchanged
        operations = [first]
        if rng.random() < 0.1:  # the caller did not hear the answer and re-sends at once
            operations.append(self.send(method, path, body, key, prefer))
        endings = {op: self.wait_ended(op) for op in operations if op}
        if rng.random() < 0.25:  # …or after the operation ended
            again = self.send(method, path, body, key, prefer)
            if again and again not in endings:
                endings[again] = self.wait_ended(again)
        self.settle(changes, list(endings.values()))
        if prefer != "respond-async":
            with self.lock:
                self.sync_answers.append(dict(answer, final=endings.get(first)))

    def send(self, method, path, body, key, prefer="respond-async", answer=None):
        """Sends until answered with an operation; its id, or None when refused or stuck. `answer`
        gets the operation, the replica that answered, whether it had ended and when."""
        headers = dict(self.auth, **{"Idempotency-Key": key, "Prefer": prefer})
        in_flight_since = None
        while True:
            if time.monotonic() > self.hard_deadline:
                self.stats.violation("writes never answered", f"{method} {path} key {key}")
                return None
            try:
                status, response_headers, doc = call(self.gateway.port, method, path, body, headers,
                                                    timeout=10 if prefer == "respond-async" else 30)
            except (OSError, http.client.HTTPException):
                self.stats.add("connection failures (gateway down)")
                time.sleep(random.uniform(0.05, 0.2))
                continue
            doc = doc if isinstance(doc, dict) else {}
            operation = doc.get("id") if status in (200, 201, 202) else doc.get("operationId")
            if operation:
                with self.lock:
                    self.key_operations[key].add(operation)
                    self.operation_keys[operation].add(key)
                if answer is not None:
                    answer.update(operation=operation, replica=response_headers.get("X-Replica"), ended=status != 202, at=time.time())
                return operation
            code = doc.get("code")
            if status == 409 and code == "idempotency_key_in_flight":
                self.stats.add("answers 409 idempotency_key_in_flight")
                in_flight_since = in_flight_since or time.monotonic()
                if time.monotonic() - in_flight_since > self.args.stuck_after:
                    self.stats.violation("keys stuck in flight", f"{method} {path} key {key}: 409 for {self.args.stuck_after} s")
                    return None
            elif status >= 500:
                self.stats.add(f"answers {status} {code}")
            else:
                self.stats.violation("unexpected answers", f"{method} {path} key {key}: {status} {doc}")
                return None
            time.sleep(random.uniform(0.05, 0.2))

    def wait_ended(self, operation):
        """Polls until the operation ended: its document, or None when it vanished."""
        missing = 0
        while True:
            if time.monotonic() > self.hard_deadline:
                self.stats.violation("operations not ended", operation)
                return None
            try:
                status, _, doc = call(self.gateway.port, "GET", f"/v1/operations/{operation}", headers=self.auth)
            except (OSError, http.client.HTTPException):
                self.stats.add("connection failures (gateway down)")
                time.sleep(random.uniform(0.05, 0.2))
                continue
            if status == 200 and doc.get("state") in ("succeeded", "failed"):
                return doc
            if status == 404:
                missing += 1
                if missing >= 20:
                    self.stats.violation("accepted operations lost", operation)
                    return None
            time.sleep(random.uniform(0.1, 0.25))

    def settle(self, changes, endings):
        for ending in endings:
            if ending:
                self.stats.add(f"operations {ending['state']}")
                if ending["state"] == "failed":
                    self.stats.add(f"operations failed {(ending.get('error') or {}).get('code')}")
        for kind, detail in settle(changes, endings):
            self.stats.violation(kind, detail)

    # Checks
    def check_final_state(self, seed_blocks):
        remaining = {f["id"] for f in self.sandbox("GET", "/faults")["faults"]}
        fired = collections.Counter(name for fault_id, name in self.fault_ids.items() if fault_id not in remaining)
        for name, n in fired.items():
            self.stats.add(f"faults fired: {name}", n)
        foreign = set()
        for merchant in MERCHANTS:
            mine = [item for items in self.items.values() for item in items if item.merchant == merchant]
            for kind, actual, seeded in zip(("domain", "pair"), self.blocks(merchant), seed_blocks[merchant]):
                items = {item.name: item for item in mine if getattr(item, kind)}
                self.stats.add("items checked", len(items))
                violations, found = compare(merchant, actual, items, seeded)
                foreign |= found
                for violation in violations:
                    self.stats.violation(*violation)
        for violation in compare_foreign_edits(fired["foreign edit (domain)"], foreign):
            self.stats.violation(*violation)

    def check_keys(self):
        for key, payloads in self.upstream_payloads.items():
            if len(payloads) > 1:
                self.stats.violation("upstream keys with two payloads", key)
        for key, operations in self.key_operations.items():
            if len(operations) > 1:
                self.stats.violation("gateway keys with two operations", f"{key}: {sorted(operations)}")
        for operation, keys in self.operation_keys.items():
            if len(keys) > 1:
                self.stats.violation("operations answered to two keys", f"{operation}: {sorted(keys)}")
        # Every operation the gateway holds was answered to some key (none created behind a key's back).
        after, stored = None, 0
        while True:
            status, _, page = call(self.gateway.port, "GET", "/v1/operations?limit=200" + (f"&after={after}" if after else ""),
                                   headers=self.auth, timeout=60)
            if status != 200:
                raise RuntimeError(f"GET /v1/operations answered {status}: {page}")
            for operation in page["data"]:
                stored += 1
                if operation["id"] not in self.operation_keys:
                    self.stats.violation("operations no key answered", f"{operation['id']} {operation['type']} {operation['state']}")
                elif operation["state"] not in ("succeeded", "failed"):
                    self.stats.violation("operations not ended", f"{operation['id']} {operation['state']}")
            after = page.get("nextCursor")
            if not after:
                return stored


VIOLATION_KINDS = [
    "lost changes", "phantom changes", "operations not ended", "accepted operations lost", "illegitimate failures",
    "upstream keys with two payloads", "gateway keys with two operations", "operations answered to two keys",
    "operations no key answered", "wrong changed flags", "keys stuck in flight", "writes never answered",
    "unexpected answers", "unclean SIGTERM exits"]
REPLICA_VIOLATION_KINDS = ["sync callers not woken"]


def run(args, chaos):
    """The chaos for args.seconds, then the settle phase; returns the seconds the settling took."""
    threads = [chaos.thread(chaos.killer), chaos.thread(chaos.injector)]
    writers = [chaos.thread(chaos.writer, w) for w in range(args.writers)]
    drainer = chaos.thread(chaos.drainer)
    for thread in threads + writers + [drainer]:
        thread.start()
    chaos.stop_chaos.wait(args.seconds)
    chaos.stop_chaos.set()  # no more kills, faults or new writes; the gateway stays up
    settle_started = time.monotonic()
    chaos.hard_deadline = settle_started + args.settle_timeout
    for thread in threads + writers:
        thread.join(max(1, chaos.hard_deadline + 30 - time.monotonic()))
    chaos.stop_drain.set()
    drainer.join()
    if any(thread.is_alive() for thread in threads + writers):
        raise RuntimeError("writers still running after the settle deadline")
    if chaos.broken:
        raise RuntimeError("; ".join(chaos.broken))
    return time.monotonic() - settle_started


def report(args, chaos, stored, settled, sync):
    c, v = chaos.stats.counts, chaos.stats.violations
    kinds = VIOLATION_KINDS + (REPLICA_VIOLATION_KINDS if args.replicas else [])
    listed = lambda prefix: ", ".join(f"{k[len(prefix):]} {n}" for k, n in sorted(c.items()) if k.startswith(prefix)) or "none"
    print(f"chaos {args.seconds:g} s, then {settled:.1f} s until every operation ended (seed {args.seed}, {args.writers} writers)")
    print(f"gateway: {c['kills']} SIGKILLs, {c['restarts']} starts, {c['failed starts']} failed starts; "
          f"{c['connection failures (gateway down)']} requests refused or reset")
    if args.replicas:
        print("\n".join(chaos_replicas.report_lines(args, chaos.gateway.kills, sync)))
    print(f"faults injected: {sum(chaos.injected.values())} (" + ", ".join(f"{n} {chaos.injected[n]}" for n, _, _ in FAULTS) + ")")
    print(f"faults fired: {sum(n for k, n in c.items() if k.startswith('faults fired: '))} (" + listed("faults fired: ") + ")")
    print(f"writes: {c['writes sent']} requests, {len(chaos.key_operations)} answered with an operation; answers retried: " + listed("answers "))
    print(f"operations: {len(chaos.operation_keys)} accepted, {c['operations succeeded']} succeeded, {c['operations failed']} failed "
          f"({listed('operations failed ')}); {stored} stored by the gateway")
    print(f"upstream: {c['upstream requests logged']} requests, {c['upstream writes']} writes, {c['upstream replays']} answered "
          f"from Rokt's idempotency store; struck by faults: " + listed("upstream requests struck by "))
    print(f"checked: {len(chaos.upstream_payloads)} upstream keys, {len(chaos.key_operations)} gateway keys, {c['items checked']} blocks")
    print("violations: " + ", ".join(f"{k} {len(v[k])}" for k in kinds))
    for kind in kinds:
        for detail in v[kind][:10]:
            print(f"  {kind}: {detail}")
    return not any(v.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--writers", type=int, default=12)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--settle-timeout", type=float, default=300, help="after the chaos, seconds for every operation to end")
    parser.add_argument("--stuck-after", type=float, default=120, help="seconds of 409 idempotency_key_in_flight that make a stuck key")
    parser.add_argument("--sandbox-options", default="", help='more rokt-sandbox options, e.g. "--shapes alternative"')
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (kept anyway on failure)")
    parser.add_argument("--replicas", type=int, default=0, help="N gateways on one PostgreSQL behind HAProxy (0: one gateway on SQLite)")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres",
                        help="the replicas' store; sqlite only with --replicas 1 (the harness without PostgreSQL)")
    parser.add_argument("--wake-slack", type=float, default=3,
                        help="--replicas: seconds a synchronous answer may still be pending after its operation ended")
    args = parser.parse_args()
    if not 1 <= args.writers <= 60:
        parser.error("--writers must be from 1 to 60 (writer w owns partnerVerticalId 1520+w)")
    if args.replicas < 0 or (args.store == "sqlite" and args.replicas > 1):
        parser.error("--replicas must be 0 or more, and 1 at most on --store sqlite (one process per SQLite file)")
    args.seed = args.seed if args.seed is not None else random.randrange(10**6)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # so that `finally` stops the processes
    work = tempfile.mkdtemp(prefix="chaos-")
    sandbox = gateway = cluster = None
    try:
        sandbox, sandbox_port = start_sandbox(args.bin_dir, work, shlex.split(args.sandbox_options))
        api_key = "rgw_chaos_" + uuid.uuid4().hex
        if args.replicas:
            cluster = chaos_replicas.PostgresCluster(os.path.join(work, "postgres")) if args.store == "postgres" else None
            gateway = chaos_replicas.start_replicas(args, work, sandbox_port, api_key, cluster)
        else:
            gateway = Gateway(args.bin_dir, work, free_port(), f"http://127.0.0.1:{sandbox_port}", api_key)
        chaos = Chaos(args, sandbox_port, gateway, api_key)
        seed_blocks = {m: chaos.blocks(m) for m in MERCHANTS}
        if args.replicas:
            gateway.start_each(chaos.restart)
            gateway.balancer.start()
        else:
            chaos.restart()
        print(f"chaos: {args.seconds:g} s, {args.writers} writers on {len(MERCHANTS)} merchants, seed {args.seed}, "
              f"{'haproxy' if args.replicas else 'gateway'} port {gateway.port}, scratch {work}", flush=True)
        settled = run(args, chaos)
        stored = chaos.check_keys()
        chaos.drain_log()
        chaos.check_final_state(seed_blocks)
        sync, violations = chaos_replicas.classify_sync_answers(chaos.sync_answers, chaos.replica_of_request, args.wake_slack)
        for violation in violations:
            chaos.stats.violation(*violation)
        exit_status = gateway.terminate()
        if exit_status != 0:
            chaos.stats.violation("unclean SIGTERM exits", f"exit status {exit_status}")
        if not report(args, chaos, stored, settled, sync):
            print(f"chaos: FAILED (seed {args.seed}; logs in {work})")
            return 1
        print("chaos: ok")
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    except Exception as error:  # the run itself broke: show why and where the logs are
        print(f"chaos: run broken: {error!r} (logs in {work})")
        for name in gateway.logs() if args.replicas and gateway else ["gateway.log"]:
            try:
                with open(os.path.join(work, name), errors="replace") as log:
                    print((f"--- {name}\n" if args.replicas else "") + "".join(log.readlines()[-20:]))
            except OSError:
                pass
        return 2
    finally:
        if gateway:
            gateway.terminate()
        if args.replicas and gateway:
            gateway.balancer.stop()
        if sandbox and sandbox.poll() is None:
            sandbox.terminate()
            sandbox.wait()
        if cluster:
            cluster.stop(keep_log=os.path.join(work, "postgres.log"))


if __name__ == "__main__":
    sys.exit(main())
