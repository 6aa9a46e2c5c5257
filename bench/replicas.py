#!/usr/bin/env python3
"""Scale-out benchmark (bench/replicas.sh starts the PostgreSQL cluster and calls this).

Configurations, run side by side and interleaved (a b c d a b c d ...), each run on a fresh
`rokt-sandbox` (its own process, niceness 10), a fresh database and fresh gateways:
  (a) 1 replica on SQLite, (b) 1 replica on PostgreSQL, (c) 2 and (d) 3 replicas on PostgreSQL
(`rokt-gateway serve` processes on their own ports sharing one database of one cluster).
No load balancer: the load tools spread the load themselves. wrk runs 6 threads (66 connections),
thread k pinned to replica k mod N (`thread.addr`); Python callers go round-robin over the ports.

Figures per run (the scenarios of bench/gateway_load.py and bench/webhook_bench.py, imported):
- accepted/s and completed/s: wrk, `Prefer: respond-async`, 100 merchants (Bench.accepted_and_completed);
- PUTs per operation for 1,000 concurrent adds on one merchant, connection i to replica i mod N;
- synchronous add (`Prefer: wait=5`) latency, split by which replica ran the job: each sample
  first sends an async add to replica A = i+1 mod N, then times a synchronous add on the same
  merchant at replica B = i mod N, so A's engine usually holds the merchant's job (its
  coalescing window) when B's operation arrives. After the sample settles, each replica's
  `rokt_gateway_upstream_requests_total` for PUT controls says who wrote upstream: only B →
  "local"; only others → "remote" (B's caller was answered across replicas); both → ambiguous,
  counted and left out;
- webhook success→arrival: one endpoint (created through replica 0) on a loopback receiver,
  synchronous adds through replica i mod N (webhook_bench.success_to_arrival).
Operation counts come from the store's gauges (`rokt_gateway_operations` on /metrics), the same
for both stores. Every wait has a deadline; only loopback is contacted; every process started
here is stopped in `finally` (and by replicas.sh's trap, which signals this process group)."""
import argparse, concurrent.futures, json, os, shutil, signal, statistics, subprocess, sys, tempfile, time, types, uuid
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_load import Bench, http
from webhook_bench import Receiver, success_to_arrival
from chaos_processes import Gateway, free_port, start_sandbox

CONFIGS = {"a": ("sqlite", 1), "b": ("postgres", 1), "c": ("postgres", 2), "d": ("postgres", 3)}
WRK_THREADS, WRK_CONNECTIONS = 6, 66  # 6 threads divide evenly over 1, 2 or 3 replicas
PUT_CONTROLS = 'endpoint="PUT /v1/partnership/accounts/{accountId}/marketplacecontrolslists"'


class Failure(Exception):
    """The run cannot produce its figures (the message says why)."""


def metric_samples(text, name):
    """(labels text, value) of every sample of metric `name` in a Prometheus exposition."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            head, value = line.rsplit(" ", 1)
            yield head[len(name):], float(value)


def percentile(values, q):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class ReplicaBench(Bench):
    """gateway_load's scenarios spread over replicas, counting operations through /metrics."""

    def __init__(self, ports, sandbox_url, key, seconds):
        super().__init__(types.SimpleNamespace(gateway=f"http://127.0.0.1:{ports[0]}", sandbox=sandbox_url, key=key,
                                               database=None, seconds=seconds))
        self.ports = ports
        self.auth = {"Authorization": f"Bearer {key}"}

    def metrics(self, port):
        status, body = http("GET", f"http://127.0.0.1:{port}/metrics", timeout=10)
        if status != 200:
            raise Failure(f"GET /metrics on :{port} answered {status}")
        return body.decode()

    def operations_by_state(self):
        text = self.metrics(self.ports[0])
        if dict(metric_samples(text, "rokt_gateway_store_up")).get("") != 1:
            raise Failure("the store gauges are missing on /metrics (rokt_gateway_store_up is not 1)")
        return {labels: value for labels, value in metric_samples(text, "rokt_gateway_operations")}

    def pending_operations(self):
        by_state = self.operations_by_state()
        return sum(by_state.get(f'{{state="{s}"}}', 0) for s in ("queued", "running"))

    def operation_count(self):
        return sum(self.operations_by_state().values())

    def drain(self, deadline_s=300):
        start = time.time()
        while self.pending_operations() > 0:
            if time.time() - start > deadline_s:
                raise Failure(f"operations still pending after {deadline_s} s")
            time.sleep(0.05)
        return time.time()

    def wrk(self, url, connections, script=None, seconds=None, threads=2):
        return super().wrk(url, connections, script, seconds, threads=WRK_THREADS)

    def write_script(self, respond_async):
        """gateway_load's request script, each wrk thread pinned to one replica in turn."""
        ports = ", ".join(str(p) for p in self.ports)
        return super().write_script(respond_async) + f"""
local replica_ports = {{{ports}}}
local pinned = 0
local merchant_setup = setup
function setup(thread)
  pinned = pinned + 1
  thread.addr = wrk.lookup("127.0.0.1", tostring(replica_ports[(pinned - 1) % #replica_ports + 1]))[1]
  merchant_setup(thread)
end
"""

    def burst_address(self, i):
        return "127.0.0.1", self.ports[i % len(self.ports)]

    def add(self, port, merchant, prefer, label):
        status, body = http("POST", f"http://127.0.0.1:{port}/v1/merchants/{merchant}/controls/blocked-domains",
                            dict(self.auth, Prefer=prefer), {"domain": f"{label}-{uuid.uuid4().hex[:10]}.example.com"})
        if status not in (200, 202):
            raise Failure(f"add on :{port} answered {status}: {body[:200]!r}")
        return status, json.loads(body)

    def upstream_puts(self):
        return {port: sum(v for labels, v in metric_samples(self.metrics(port), "rokt_gateway_upstream_requests_total")
                          if PUT_CONTROLS in labels) for port in self.ports}

    def sync_by_runner(self, samples):
        n, local, remote, ambiguous = len(self.ports), [], [], 0
        for i in range(samples):
            merchant = self.merchants[i % len(self.merchants)]
            caller, holder = self.ports[i % n], self.ports[(i + 1) % n]
            before = self.upstream_puts()
            self.add(holder, merchant, "respond-async", "hold")
            t0 = time.perf_counter()
            status, operation = self.add(caller, merchant, "wait=5", "sync")
            elapsed_ms = (time.perf_counter() - t0) * 1000
            if status != 200 or operation.get("state") != "succeeded":
                raise Failure(f"synchronous add on :{caller} not answered ended within 5 s: {status} {operation.get('state')}")
            self.drain(30)
            after = self.upstream_puts()
            wrote = {port for port in self.ports if after[port] > before[port]}
            if wrote == {caller}:
                local.append(elapsed_ms)
            elif wrote and caller not in wrote:
                remote.append(elapsed_ms)
            else:
                ambiguous += 1
        return local, remote, ambiguous

    def webhook_delays(self, receiver, samples):
        status, body = http("POST", self.gw + "/v1/webhook-endpoints", self.auth,
                            {"url": f"http://127.0.0.1:{receiver.port}/hooks", "events": ["operation.succeeded"]})
        if status != 201:
            raise Failure(f"creating the webhook endpoint answered {status}: {body[:200]!r}")
        def add(i):
            return self.add(self.ports[i % len(self.ports)], self.merchants[i % len(self.merchants)], "wait=5", "wh")[1]
        return success_to_arrival(receiver, add, samples)


class Cluster:
    """The PostgreSQL cluster replicas.sh started: one fresh database per run."""

    def __init__(self, admin_url, psql):
        self.admin_url, self.psql = admin_url, psql
        rest = admin_url.split("://", 1)[1]
        credentials, self.hostport = rest.split("@", 1)[0], rest.split("@", 1)[1].split("/", 1)[0]
        self.user, self.password = credentials.split(":", 1)

    def sql(self, statement, database=None):
        url = self.admin_url if database is None else self.admin_url.rsplit("/", 1)[0] + "/" + database
        out = subprocess.run([self.psql, "--no-psqlrc", "-tA", "-v", "ON_ERROR_STOP=1", "-c", statement, url],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise Failure(f"psql {statement!r}: {out.stderr.strip()}")
        return out.stdout.strip()

    def create(self, name):
        self.sql(f"CREATE DATABASE {name}")
        # Plain TCP on loopback: TLS would add its per-record cost to every query, the same on every replica count.
        return f"postgres://{self.user}@{self.hostport}/{name}?sslmode=disable"

    def drop(self, name):
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def share(total, count, r):
    """Replica r's share of a deployment-wide budget: the remainder goes to the first replicas, so
    the shares add up to the total (16 connections over 3 replicas: 6, 5, 5, not 5 each)."""
    return total // count + (1 if r < total % count else 0)


def start_replicas(args, cfg, work, sandbox_url, key, cluster, database):
    store, count = CONFIGS[cfg]
    replicas = []
    for r in range(count):
        directory = os.path.join(work, f"replica{r}")
        os.makedirs(directory)
        # DATABASE_PATH stays set (in the replica's directory): DATABASE_URL overrides it, and a
        # binary that ignored DATABASE_URL writes nothing outside the run's directory.
        store_env = {"DATABASE_PATH": os.path.join(directory, "gateway.sqlite3")}
        if store == "postgres":
            password_file = os.path.join(work, "database-password")
            with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(cluster.password + "\n")
            store_env.update(DATABASE_URL=database, DATABASE_PASSWORD_FILE=password_file)
            # One connection budget for the whole deployment (DATABASE_CONNECTIONS_IN_ALL, default 16,
            # the one-replica default), split over the replicas: on a small server, replicas × a full
            # pool each is more backends than its cores can run.
            in_all = int(os.environ.get("DATABASE_CONNECTIONS_IN_ALL", "16"))
            store_env["DATABASE_MAX_CONNECTIONS"] = str(max(2, share(in_all, count, r)))
        # Likewise the jobs worked on at once (ENGINE_JOBS_IN_ALL, default 32, the one-replica
        # default): more jobs in flight means fewer operations merged into each round.
        jobs_in_all = int(os.environ.get("ENGINE_JOBS_IN_ALL", "32"))
        store_env["ENGINE_MAX_CONCURRENT_JOBS"] = str(max(1, share(jobs_in_all, count, r)))
        # And the machine's cores (EVENT_LOOPS_IN_ALL, default all of them, one replica's default):
        # N replicas each running a loop per core wake N times as many threads, each with less to do.
        loops_in_all = int(os.environ.get("EVENT_LOOPS_IN_ALL", str(os.cpu_count() or 1)))
        store_env["HTTP_EVENT_LOOPS"] = str(max(1, share(loops_in_all, count, r)))
        replicas.append(Gateway(args.bin_dir, directory, free_port(), sandbox_url, key, store_env=store_env,
                                more_env={"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"}, ready_path="/readyz"))
    # All at once, as a deployment's replicas start: their migrations must not race.
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        started = list(pool.map(lambda gateway: gateway.start(), replicas))
    return replicas, started


def renice(pid, niceness):
    """Niceness is per thread on Linux: every thread the process has (those it makes later inherit it)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.setpriority(os.PRIO_PROCESS, int(tid), niceness)


def log_tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().splitlines()[-lines:])
    except OSError:
        return ""


def run_once(args, cfg, run, receiver, cluster):
    store, count = CONFIGS[cfg]
    work = tempfile.mkdtemp(prefix=f"replicas-{cfg}{run}-")
    database = f"bench_{cfg}{run}_{os.getpid()}" if store == "postgres" else None
    sandbox, replicas = None, []
    try:
        sandbox, sandbox_port = start_sandbox(args.bin_dir, work)
        renice(sandbox.pid, 10)
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        key = "rgw_bench_" + uuid.uuid4().hex
        url = None
        if store == "postgres":
            if cluster is None:
                raise Failure("no PostgreSQL cluster (replicas.sh starts one when CONFIGS has b, c or d)")
            url = cluster.create(database)
        replicas, started = start_replicas(args, cfg, work, sandbox_url, key, cluster, url)
        for gateway, ok in zip(replicas, started):
            if not ok:
                raise Failure(f"replica on :{gateway.port} not ready (/readyz) within 60 s: {log_tail(gateway.log.name)}")
        if store == "postgres" and cluster.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database) == "0":
            raise Failure("DATABASE_URL not supported by this binary (the replicas left the PostgreSQL database empty)")
        bench = ReplicaBench([g.port for g in replicas], sandbox_url, key, args.seconds)
        bench.register_merchants(100)
        result = {}
        accept = bench.accepted_and_completed(connections=WRK_CONNECTIONS)
        result.update(accepted_per_s=accept["accepted_per_s"], completed_per_s=accept["completed_per_s"],
                      non2xx=accept["non2xx"], submitted=accept["submitted"], drain_after_load_s=round(accept["drain_after_load_s"], 2))
        burst = bench.puts_per_operation()
        result.update(puts_per_op=burst["puts_per_op"], burst_puts=burst["puts"], burst_accepted=burst["accepted"])
        local, remote, ambiguous = bench.sync_by_runner(args.sync_samples)
        result.update(sync_local_p50_ms=percentile(local, 50), sync_local_p99_ms=percentile(local, 99),
                      sync_remote_p50_ms=percentile(remote, 50), sync_remote_p99_ms=percentile(remote, 99),
                      sync_samples=f"{len(local)} local, {len(remote)} remote, {ambiguous} ambiguous")
        delays = bench.webhook_delays(receiver, args.webhook_samples)
        result.update(webhook_p50_ms=percentile(delays, 50), webhook_p99_ms=percentile(delays, 99),
                      webhook_samples=f"{len(delays)}/{args.webhook_samples}")
        for gateway in replicas:
            if gateway.process.poll() is not None:
                raise Failure(f"replica on :{gateway.port} exited ({gateway.process.returncode}): {log_tail(gateway.log.name)}")
        result["problems"] = problems(cfg, result, args)
        return result
    finally:
        for gateway in replicas:
            gateway.terminate()
            gateway.log.close()
        if sandbox is not None:
            sandbox.terminate()
            try:
                sandbox.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sandbox.kill()
                sandbox.wait()
        if database and cluster is not None:
            try:
                cluster.drop(database)
            except Failure as error:
                print(f"  (could not drop {database}: {error})", flush=True)
        if args.keep:
            print(f"  (kept {work})", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def problems(cfg, r, args):
    """What makes the run fail under --smoke (and is flagged in a full run)."""
    found = []
    if r["non2xx"]:
        found.append(f"{r['non2xx']} non-2xx answers under wrk")
    if r["burst_accepted"] != 1000:
        found.append(f"{r['burst_accepted']}/1000 burst adds answered 202")
    if r["puts_per_op"] > 0.05:
        found.append(f"{r['puts_per_op']:.3f} PUT/op > 0.05")
    if not r["webhook_samples"].startswith(f"{args.webhook_samples}/"):
        found.append(f"webhooks arrived for {r['webhook_samples']} operations")
    return found


FIGURES = [  # (key, label, key of (a)'s figure the ratio is taken to)
    ("accepted_per_s", "durable operations accepted/s", "accepted_per_s"),
    ("completed_per_s", "operations completed/s (100 merchants)", "completed_per_s"),
    ("puts_per_op", "PUTs/op, 1,000 concurrent adds, 1 merchant", "puts_per_op"),
    ("sync_local_p50_ms", "sync add p50 ms, caller's replica ran it", "sync_local_p50_ms"),
    ("sync_local_p99_ms", "sync add p99 ms, caller's replica ran it", "sync_local_p99_ms"),
    ("sync_remote_p50_ms", "sync add p50 ms, another replica ran it", "sync_local_p50_ms"),
    ("sync_remote_p99_ms", "sync add p99 ms, another replica ran it", "sync_local_p99_ms"),
    ("webhook_p50_ms", "webhook success→arrival p50 ms", "webhook_p50_ms"),
    ("webhook_p99_ms", "webhook success→arrival p99 ms", "webhook_p99_ms"),
]


def fmt(value):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3f}" if value < 1 else f"{value:.1f}"


def summary(configs, results):
    names = {"a": "(a) SQLite ×1", "b": "(b) PG ×1", "c": "(c) PG ×2", "d": "(d) PG ×3"}
    medians = {cfg: {} for cfg in configs}
    for cfg in configs:
        for key, _, _ in FIGURES:
            values = [r[key] for r in results[cfg] if r.get(key) is not None]
            medians[cfg][key] = statistics.median(values) if values else None
    width = 44
    lines = ["median of the runs (ratio to (a)):", f"{'figure':<{width}}" + "".join(f"{names[c]:>22}" for c in configs)]
    for key, label, base_key in FIGURES:
        row = f"{label:<{width}}"
        for cfg in configs:
            value, base = medians[cfg][key], medians.get("a", {}).get(base_key)
            cell = fmt(value)
            if value is not None and base:
                cell += f" ({value / base:.2f})"
            row += f"{cell:>22}"
        lines.append(row)
    lines.append("each run, in order:")
    for key, label, _ in FIGURES:
        lines.append(f"  {label}: " + "; ".join(f"({cfg}) " + " · ".join(fmt(r.get(key)) for r in results[cfg]) for cfg in configs))
    row = f"{'sync samples local/remote/ambiguous (all runs)':<{width}}"
    for cfg in configs:
        totals = [sum(int(r["sync_samples"].split(", ")[k].split()[0]) for r in results[cfg]) for k in range(3)]
        row += f"{'/'.join(map(str, totals)):>22}"
    lines.append(row)
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--postgres-url", help="the cluster's URL (replicas.sh starts it)")
    p.add_argument("--psql", default="psql")
    p.add_argument("--configs", default="abcd")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--sync-samples", type=int, default=100)
    p.add_argument("--webhook-samples", type=int, default=100)
    p.add_argument("--smoke", action="store_true", help="exit 1 on any failure or problem")
    p.add_argument("--keep", action="store_true", help="keep each run's directory (logs)")
    p.add_argument("--process-group", action="store_true", help="lead a process group (replicas.sh signals it)")
    args = p.parse_args()
    if args.process_group:
        os.setpgrp()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    configs = [c for c in args.configs if c in CONFIGS]
    cluster = Cluster(args.postgres_url, args.psql) if args.postgres_url else None
    receiver = Receiver()
    version = subprocess.run([os.path.join(args.bin_dir, "rokt-gateway"), "--version"], capture_output=True, text=True,
                             timeout=30).stdout.splitlines()[:1]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, load {load}, {' '.join(version)}"
          + (f", PostgreSQL {cluster.sql('SHOW server_version')}" if cluster else "") +
          f"; {args.seconds} s per wrk run, {args.runs} run(s) of {''.join(configs)} interleaved", flush=True)
    results, failed = {cfg: [] for cfg in configs}, []
    unsupported = set()
    for run in range(1, args.runs + 1):
        for cfg in configs:
            store, count = CONFIGS[cfg]
            title = f"run {run} ({cfg}) {count} replica{'s' if count > 1 else ''} on {'SQLite' if store == 'sqlite' else 'PostgreSQL'}"
            if cfg in unsupported:
                print(f"{title}: skipped (failed before)", flush=True)
                continue
            started = time.time()
            try:
                result = run_once(args, cfg, run, receiver, cluster)
            except Exception as error:  # noqa: BLE001 - any error ends this run, not the others
                if not isinstance(error, Failure):
                    error = f"{type(error).__name__}: {error}"
                print(f"{title}: FAILED: {error}", flush=True)
                failed.append(f"({cfg}) run {run}: {error}")
                if "not supported" in str(error) or "no PostgreSQL cluster" in str(error):
                    unsupported.add(cfg)
                continue
            results[cfg].append(result)
            print(f"{title} ({time.time() - started:.0f} s): {json.dumps(result)}", flush=True)
            failed += [f"({cfg}) run {run}: {problem}" for problem in result["problems"]]
            if count > 1 and result["sync_remote_p50_ms"] is None:
                # Who claims a job is a race: not a failure, but the figure is missing for this run.
                print(f"  note: no synchronous add of this run ran on another replica", flush=True)
    print(summary(configs, results))
    if failed:
        print("problems:\n  " + "\n  ".join(failed))
    sys.exit(1 if failed and (args.smoke or any(not results[c] for c in configs)) else 0)


if __name__ == "__main__":
    main()
