"""The processes of the chaos run (bench/chaos.py): the sandbox, the gateway it kills and
restarts, and plain HTTP/1.1 calls to either on loopback."""
import http.client, json, os, signal, socket, subprocess, time


def call(port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers, parsed JSON or None). Raises OSError
    or http.client.HTTPException when the connection fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers=dict(headers or {}, **({"Content-Type": "application/json"} if data else {})))
        response = conn.getresponse()
        raw = response.read()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return response.status, response.headers, doc
    finally:
        conn.close()


class Gateway:
    """`rokt-gateway serve` on a fixed port and database, killed and restarted at will.
    store_env: the store's variables (DATABASE_URL…) instead of DATABASE_PATH, the SQLite file in
    `work`; more_env: further variables; ready_path: what must answer 200 before it counts as started."""

    def __init__(self, bin_dir, work, port, sandbox_url, api_key, name="gateway", store_env=None, more_env=None,
                 ready_path="/healthz"):
        self.exe, self.port, self.process = os.path.join(bin_dir, "rokt-gateway"), port, None
        self.name, self.ready_path = name, ready_path
        self.log = open(os.path.join(work, f"{name}.log"), "ab")
        store = store_env or {"DATABASE_PATH": os.path.join(work, "gateway.sqlite3")}
        # The writers share one key at a rate its per-caller limit would refuse, and the outbound
        # limits would cap the calls to the sandbox; the breaker and retry budget stay on.
        guards_off = {"RATE_LIMIT_ENABLED": "false", "ROKT_MAX_REQUESTS_PER_SECOND": "0", "ROKT_MAX_CONCURRENT_REQUESTS": "0"}
        self.env = dict(os.environ, PORT=str(port), **{**guards_off, **store, **(more_env or {})},
                        ROKT_BASE_URL=sandbox_url, ROKT_ECOMMERCE_BASE_URL=sandbox_url, ROKT_API_TOKEN="sandbox-token",
                        ROKT_PARENT_ACCOUNT_ID="demo-parent", GATEWAY_BOOTSTRAP_API_KEY=api_key,
                        RETRY_BASE_MS="50", RETRY_CAP_MS="500", LOG_LEVEL="warn", LOG_FORMAT="text")

    def start(self, deadline_seconds=60):
        """Starts it and waits for ready_path; False when it exited or did not answer in time."""
        self.process = subprocess.Popen([self.exe, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if call(self.port, "GET", self.ready_path, timeout=2)[0] == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        return False

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                return "hung on SIGTERM"
        return self.process.returncode if self.process else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox(bin_dir, work, options=()):
    """rokt-sandbox with its demo seed on a free port and the given extra options: (process, port)."""
    log = os.path.join(work, "sandbox.log")
    with open(log, "wb") as out:
        process = subprocess.Popen([os.path.join(bin_dir, "rokt-sandbox"), "--port", "0", "--seed", "demo", *options],
                                   stdout=out, stderr=subprocess.STDOUT)
    for _ in range(300):
        with open(log) as f:
            line = next((l for l in f if "listening on" in l), None)
        if line:
            return process, int(line.rsplit(":", 1)[1])
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start")
