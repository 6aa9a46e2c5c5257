#!/usr/bin/env python3
"""Webhook delivery benchmark (bench/webhooks.sh starts the gateway with its sandbox).

A minimal asyncio HTTP/1.1 receiver on loopback answers 204 and notes when each webhook arrived.
1. Throughput: ENDPOINTS endpoints (all pointing at the receiver, subscribed to operation.succeeded)
   and OPERATIONS writes fired at once across 100 merchants: ENDPOINTS x OPERATIONS deliveries;
   figure = deliveries / (last arrival - first arrival).
2. Latency: one endpoint, writes one after another; for each, arrival time at the receiver minus the
   operation's `updatedAt` (when the gateway finished it; same machine clock): p50 / p99.
Bounded: every wait has a deadline. Only loopback addresses are contacted."""
import argparse, asyncio, concurrent.futures, datetime, json, statistics, sys, threading, time, uuid
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gateway_load import http, Bench

class Receiver:
    def __init__(self):
        self.arrivals = []  # (time, body bytes)
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(self.handle, "127.0.0.1", 0, backlog=1024))
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                now = time.time()
                with self.lock:
                    self.arrivals.append((now, body))
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def take(self):
        with self.lock:
            out, self.arrivals = self.arrivals, []
        return out

    def wait_for(self, count, deadline_s=300):
        start = time.time()
        while time.time() - start < deadline_s:
            with self.lock:
                if len(self.arrivals) >= count:
                    return True
            time.sleep(0.02)
        return False

def parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()

def success_to_arrival(receiver, add, samples):
    """Sorted delays (ms) from each operation's `updatedAt` to its webhook's arrival at `receiver`:
    `add(i)` makes the i-th synchronous write (one endpoint subscribed) and returns its operation."""
    receiver.take()
    delays = []
    for i in range(samples):
        operation = add(i)
        assert operation.get("state") == "succeeded", operation
        receiver.wait_for(1, 10)
        for arrived, body in receiver.take():
            event = json.loads(body)
            op = event["data"]["operation"]
            if op["id"] == operation["id"]:
                delays.append((arrived - parse_ts(op["updatedAt"])) * 1000)
    return sorted(delays)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway"); p.add_argument("--sandbox"); p.add_argument("--key"); p.add_argument("--database")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--endpoints", type=int, default=20); p.add_argument("--operations", type=int, default=500)
    p.add_argument("--latency-samples", type=int, default=200)
    a = p.parse_args()
    a.latency_ms = 0
    bench = Bench(a)
    auth = {"Authorization": f"Bearer {a.key}"}
    receiver = Receiver()
    url = f"http://127.0.0.1:{receiver.port}/hooks"
    bench.register_merchants(100)

    def endpoints(n):
        status, body = http("GET", a.gateway + "/v1/webhook-endpoints", auth)
        for endpoint in json.loads(body)["data"]:
            http("DELETE", a.gateway + f"/v1/webhook-endpoints/{endpoint['id']}", auth)
        for _ in range(n):
            status, body = http("POST", a.gateway + "/v1/webhook-endpoints", auth, {"url": url, "events": ["operation.succeeded"]})
            assert status == 201, (status, body[:300])

    def add(i, prefer=None):
        merchant = bench.merchants[i % len(bench.merchants)]
        headers = dict(auth, **({"Prefer": prefer} if prefer else {}))
        status, body = http("POST", a.gateway + f"/v1/merchants/{merchant}/controls/blocked-domains", headers,
                            {"domain": f"wh-{i}-{uuid.uuid4().hex[:8]}.example.com"})
        assert status in (200, 202), (status, body[:300])
        return json.loads(body)

    # 1. Throughput
    endpoints(a.endpoints)
    receiver.take()
    expected = a.endpoints * a.operations
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: add(i, "respond-async"), range(a.operations)))
    complete = receiver.wait_for(expected)
    arrivals = receiver.take()
    times = sorted(t for t, _ in arrivals)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0
    print(f"deliveries: {len(arrivals)}/{expected} ({'complete' if complete else 'INCOMPLETE'}) "
          f"endpoints={a.endpoints} operations={a.operations} deliveries_per_s={rate:.0f}")

    # 2. Latency from an operation's success to its webhook's arrival
    endpoints(1)
    delays = success_to_arrival(receiver, lambda i: add(10_000 + i), a.latency_samples)
    q = statistics.quantiles(delays, n=100)
    print(f"success_to_arrival_ms: samples={len(delays)} p50={statistics.median(delays):.1f} p99={q[98]:.1f} max={delays[-1]:.1f}")

if __name__ == "__main__":
    main()
