#!/usr/bin/env python3
"""Load scenarios for the gateway against its sandbox (bench/gateway.sh starts both).

Prints one line per figure. Bounded: every wrk run has a fixed duration, every wait a deadline.
Only loopback addresses are contacted."""
import argparse, asyncio, json, os, sqlite3, statistics, subprocess, tempfile, time, urllib.request, uuid

def http(method, url, headers=None, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

class Bench:
    def __init__(self, a):
        self.gw, self.sb, self.key, self.db, self.seconds = a.gateway, a.sandbox, a.key, a.database, a.seconds
        self.sb_headers = {"Authorization": "Bearer sandbox-token", "X-Platform-Parent-Account-Id": "demo-parent"}
        self.merchants = []

    def register_merchants(self, n=100):
        self.merchants = []
        for i in range(n):
            status, body = http("POST", self.sb + "/v1/accounts/register/partnership",
                                dict(self.sb_headers, **{"Idempotency-Key": str(uuid.uuid4())}),
                                {"external_account_id": f"bench-{i}-{uuid.uuid4().hex[:6]}", "name": f"Bench {i}"})
            data = json.loads(body).get("data") or {}
            account = data.get("accountId") or data.get("account_id") or (data.get("account") or {}).get("accountId")
            assert status in (200, 201) and account, (status, body[:200])
            self.merchants.append(account)

    def sandbox_admin(self, method, path, body=None):
        return http(method, self.sb + "/__sandbox" + path, {}, body)

    def set_latency(self, ms):
        self.sandbox_admin("DELETE", "/faults")
        if ms:
            status, body = self.sandbox_admin("POST", "/faults", {"kind": "latency", "milliseconds": ms})
            assert status in (200, 201), body

    def pending_operations(self):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute("SELECT COUNT(*) FROM operations WHERE state IN ('queued','running')").fetchone()[0]
        finally:
            con.close()

    def operation_count(self):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute("SELECT COUNT(*) FROM operations").fetchone()[0]
        finally:
            con.close()

    def wrk(self, url, connections, script=None, seconds=None, threads=2):
        cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds or self.seconds}s", "--latency"]
        if script:
            f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
            f.write(script); f.close()
            cmd += ["-s", f.name]
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=(seconds or self.seconds) + 60).stdout
        def ms(v):
            v = v.strip()
            if v.endswith("us"): return float(v[:-2]) / 1000
            if v.endswith("ms"): return float(v[:-2])
            if v.endswith("s"): return float(v[:-1]) * 1000
            return float(v)
        result = {"rps": 0.0, "p50": None, "p99": None, "non2xx": 0, "requests": 0}
        for line in out.splitlines():
            parts = line.split()
            if line.startswith("Requests/sec"): result["rps"] = float(parts[1])
            elif parts[:1] == ["50%"]: result["p50"] = ms(parts[1])
            elif parts[:1] == ["99%"]: result["p99"] = ms(parts[1])
            elif "Non-2xx" in line: result["non2xx"] = int(parts[-1])
            elif "requests in" in line: result["requests"] = int(parts[0])
        return result

    def write_script(self, respond_async):
        """Each wrk thread walks the merchants round-robin; on each merchant it alternately adds a
        new domain and removes the one it added 25 adds earlier, so every operation is a real
        change while the lists stay around 25 entries (a growing list would make later runs slower
        than earlier ones)."""
        merchants = ",".join(f'"{m}"' for m in self.merchants)
        prefer = 'headers["Prefer"] = "respond-async"' if respond_async else ""
        return f"""
local merchants = {{{merchants}}}
local counter = 0
function setup(thread) thread:set("id", tostring(math.random(1, 1e9))) end
function request()
  counter = counter + 1
  local m = merchants[(counter % #merchants) + 1]
  local round = math.floor(counter / #merchants)
  local headers = {{}}
  headers["Authorization"] = "Bearer {self.key}"
  {prefer}
  if round % 2 == 0 then
    headers["Content-Type"] = "application/json"
    local body = '{{"domain":"t' .. id .. '-d' .. round .. '.example.com"}}'
    return wrk.format("POST", "/v1/merchants/" .. m .. "/controls/blocked-domains", headers, body)
  else
    return wrk.format("DELETE", "/v1/merchants/" .. m .. "/controls/blocked-domains/t" .. id .. "-d" .. (round - 51) .. ".example.com", headers)
  end
end
"""

    def drain(self, deadline_s=300):
        start = time.time()
        while self.pending_operations() > 0 and time.time() - start < deadline_s:
            time.sleep(0.05)
        return time.time()

    def accepted_and_completed(self, connections=64):
        before = self.operation_count()
        t0 = time.time()
        r = self.wrk(self.gw, connections, self.write_script(True))
        t1 = time.time()
        done = self.drain()
        submitted = self.operation_count() - before
        return {"accepted_per_s": r["rps"], "non2xx": r["non2xx"], "submitted": submitted,
                "completed_per_s": submitted / (done - t0), "drain_after_load_s": done - t1}

    def burst_address(self, i):
        """(host, port) the i-th request of a burst is sent to: the one gateway (bench/replicas.py spreads them)."""
        return self.gw.split("//")[1].split(":")[0], int(self.gw.rsplit(":", 1)[1])

    def puts_per_operation(self, n=1000):
        # A merchant of its own: its list stays within Rokt's limits whatever ran before.
        saved = self.merchants
        self.register_merchants(1)
        merchant, self.merchants = self.merchants[0], saved
        self.sandbox_admin("DELETE", "/requests")
        async def one(i):
            reader, writer = await asyncio.open_connection(*self.burst_address(i))
            body = json.dumps({"domain": f"burst-{i}-{uuid.uuid4().hex[:8]}.example.com"}).encode()
            writer.write((f"POST /v1/merchants/{merchant}/controls/blocked-domains HTTP/1.1\r\nHost: bench\r\n"
                          f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\nPrefer: respond-async\r\n"
                          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
            await writer.drain()
            data = await reader.read()
            writer.close()
            return data.split(b" ", 2)[1]
        async def burst():
            return await asyncio.gather(*(one(i) for i in range(n)))
        t0 = time.time()
        codes = asyncio.run(burst())
        self.drain()
        elapsed = time.time() - t0
        status, body = self.sandbox_admin("GET", "/requests")
        log = json.loads(body)
        entries = log.get("requests", log) if isinstance(log, dict) else log
        puts = sum(1 for e in entries if e.get("method") == "PUT" and e.get("path", "").endswith("/marketplacecontrolslists"))
        accepted = sum(1 for c in codes if c == b"202")
        return {"operations": n, "accepted": accepted, "puts": puts, "puts_per_op": puts / n, "elapsed_s": elapsed}

    def sync_latency(self, callers):
        r = self.wrk(self.gw, callers, self.write_script(False), threads=min(2, callers))
        return {"callers": callers, "rps": r["rps"], "p50_ms": r["p50"], "p99_ms": r["p99"], "non2xx": r["non2xx"]}

    def added_latency(self, rounds=3, seconds=5):
        gw_script = f'wrk.method="GET"; wrk.headers["Authorization"]="Bearer {self.key}"'
        sb_script = 'wrk.method="GET"; wrk.headers["Authorization"]="Bearer sandbox-token"; wrk.headers["X-Platform-Parent-Account-Id"]="demo-parent"'
        gw, sb = [], []
        for _ in range(rounds):
            gw.append(self.wrk(self.gw + "/v1/merchants/demo-merchant-1/status", 1, gw_script, seconds=seconds)["p50"])
            sb.append(self.wrk(self.sb + "/v1/partnership/accounts/demo-merchant-1/status", 1, sb_script, seconds=seconds)["p50"])
        return {"gateway_p50_ms": statistics.median(gw), "sandbox_p50_ms": statistics.median(sb),
                "added_p50_ms": statistics.median(gw) - statistics.median(sb), "runs_gateway": gw, "runs_sandbox": sb}

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", required=True); p.add_argument("--sandbox", required=True)
    p.add_argument("--key", required=True); p.add_argument("--database", required=True)
    p.add_argument("--latency-ms", type=int, default=0); p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--only-accept", action="store_true", help="run only the accept/complete scenario")
    a = p.parse_args()
    b = Bench(a)
    b.set_latency(a.latency_ms)
    b.register_merchants(100)
    runs = [b.accepted_and_completed() for _ in range(3)]
    summary = {"accepted_per_s_median": statistics.median(r["accepted_per_s"] for r in runs),
               "completed_per_s_median": statistics.median(r["completed_per_s"] for r in runs),
               "runs": runs}
    print(f"[upstream latency {a.latency_ms} ms] durable accept/complete, 100 merchants, 64 connections, 3 runs:", json.dumps(summary))
    if a.only_accept:
        return
    print(f"[upstream latency {a.latency_ms} ms] 1000 concurrent adds on one merchant:", json.dumps(b.puts_per_operation()))
    for callers in (1, 16, 64):
        print(f"[upstream latency {a.latency_ms} ms] synchronous add:", json.dumps(b.sync_latency(callers)))
    print(f"[upstream latency {a.latency_ms} ms] GET status, gateway vs sandbox direct, 1 connection:", json.dumps(b.added_latency()))

if __name__ == "__main__":
    main()
