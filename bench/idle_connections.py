#!/usr/bin/env python3
"""Opens N keep-alive connections to a server on loopback (one request each, then idle),
reports the server's RSS while they are held and the latency of /healthz on a fresh
connection meanwhile. Bounded: it stops after --hold-seconds."""
import argparse, selectors, socket, statistics, time

def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--hold-seconds", type=float, default=4)
    p.add_argument("--pid", type=int, required=True)
    a = p.parse_args()
    request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
    sel = selectors.DefaultSelector()
    socks, answered = [], 0
    for i in range(a.connections):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", a.port))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = set(range(a.connections))
    deadline = time.time() + 60
    while pending and time.time() < deadline:
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                s.send(request)
                sel.modify(s, selectors.EVENT_READ, key.data)
            elif ev & selectors.EVENT_READ:
                data = s.recv(4096)
                if data.startswith(b"HTTP/1.1 200"):
                    answered += 1
                sel.unregister(s)
                pending.discard(key.data)
    time.sleep(0.5)
    held = sum(1 for s in socks if s.fileno() >= 0)
    rss = rss_mib(a.pid)
    latencies = []
    end = time.time() + a.hold_seconds
    while time.time() < end:
        t0 = time.perf_counter()
        c = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            reply += chunk
        c.close()
        latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    latencies.sort()
    print(f"{a.connections} idle connections: {answered} answered, {held} held open; "
          f"RSS {rss:.1f} MiB; /healthz meanwhile p50 {statistics.median(latencies):.2f} ms "
          f"max {latencies[-1]:.2f} ms over {len(latencies)} requests")
    for s in socks:
        s.close()

if __name__ == "__main__":
    main()
