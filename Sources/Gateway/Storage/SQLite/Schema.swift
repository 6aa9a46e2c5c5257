import Store

/// The gateway's tables, as versioned migrations. Never edit a shipped migration: add one.
enum Schema {
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "operations, jobs, upstream writes, api keys, inbound idempotency",
            sql: """
                -- State documents operations ended with; one row serves every operation of a merged write.
                CREATE TABLE results (id INTEGER PRIMARY KEY, body TEXT NOT NULL);

                CREATE TABLE operations (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    merchant_id TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    state TEXT NOT NULL,
                    changed INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    request TEXT NOT NULL,
                    intent TEXT NOT NULL,
                    result_id INTEGER REFERENCES results(id),
                    error TEXT,
                    api_key_id TEXT
                );
                CREATE INDEX operations_by_group ON operations(merchant_id, resource, state, id);
                CREATE INDEX operations_by_merchant ON operations(merchant_id, id);
                CREATE INDEX operations_by_state ON operations(state, id);

                -- The call log a support ticket needs; a merged write's calls are shared by its operations.
                CREATE TABLE upstream_calls (id INTEGER PRIMARY KEY, call TEXT NOT NULL);
                CREATE TABLE operation_calls (
                    operation_id TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
                    call_id INTEGER NOT NULL REFERENCES upstream_calls(id),
                    PRIMARY KEY (operation_id, call_id)
                ) WITHOUT ROWID;

                -- One job per (merchant, resource): the unit of serialisation, leasing and backoff.
                CREATE TABLE jobs (
                    merchant_id TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    due_at INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_expires_at INTEGER,
                    PRIMARY KEY (merchant_id, resource)
                ) WITHOUT ROWID;
                CREATE INDEX jobs_by_due ON jobs(due_at) WHERE due_at IS NOT NULL;

                -- The upstream write in flight for a job: committed before it is sent, so a retry
                -- (or a restart) re-sends the same bytes with the same Idempotency-Key.
                CREATE TABLE pending_writes (
                    merchant_id TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    operation_ids TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    method TEXT NOT NULL,
                    path TEXT NOT NULL,
                    body BLOB,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    upstream_operation_id TEXT,
                    PRIMARY KEY (merchant_id, resource)
                ) WITHOUT ROWID;

                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    merchants TEXT,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );

                -- Inbound Idempotency-Key records, per API key, kept 24 h.
                CREATE TABLE inbound_requests (
                    api_key_id TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    state TEXT NOT NULL,
                    status INTEGER,
                    headers TEXT,
                    body BLOB,
                    created_at INTEGER NOT NULL,
                    operation_id TEXT,
                    PRIMARY KEY (api_key_id, idempotency_key)
                ) WITHOUT ROWID;
                CREATE INDEX inbound_requests_by_age ON inbound_requests(created_at);

                -- Counters other processes bump so a running gateway notices (api key changes).
                CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO meta(name, value) VALUES ('keys_version', 0);
                """),
        Migration(
            version: 2, name: "merchants registered through the gateway",
            sql: """
                -- One row per externalAccountId: a register binds to the operation already registering
                -- it (inserted in the same transaction as that operation), so duplicates never reach Rokt twice.
                CREATE TABLE merchants (
                    external_account_id TEXT PRIMARY KEY,
                    operation_id TEXT NOT NULL,
                    account_id TEXT,
                    name TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX merchants_by_account ON merchants(account_id) WHERE account_id IS NOT NULL;
                """),
        Migration(
            version: 3, name: "webhook endpoints, events, deliveries, attempts",
            sql: """
                -- Partner endpoints. `secret_key` is the raw key (shown once as whsec_<base64>): the gateway must
                -- sign with it, so it is stored, never logged, never answered again.
                CREATE TABLE webhook_endpoints (
                    id TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    events TEXT,                         -- JSON array of types; NULL: every type
                    description TEXT,
                    secret_key BLOB NOT NULL,
                    previous_secret_key BLOB,            -- still signs until previous_secret_expires_at (rotation)
                    previous_secret_expires_at INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    failing_since INTEGER,               -- first failure of the current unbroken run of failures
                    disabled_at INTEGER,
                    disabled_reason TEXT
                );

                -- The outbox: one row per event, inserted in the transaction of the change it reports.
                CREATE TABLE webhook_events (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    merchant_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    body BLOB NOT NULL                   -- the exact bytes sent and signed
                );

                -- Per-merchant event counters, so receivers can order one merchant's events.
                CREATE TABLE webhook_sequences (merchant_id TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;

                -- One event to one endpoint; leased while an attempt runs, so a dead process's work returns.
                CREATE TABLE webhook_deliveries (
                    id TEXT PRIMARY KEY,
                    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
                    event_id TEXT NOT NULL REFERENCES webhook_events(id),
                    state TEXT NOT NULL,                 -- pending | delivered | failed
                    attempts INTEGER NOT NULL DEFAULT 0,
                    due_at INTEGER,                      -- NULL once delivered or failed
                    lease_owner TEXT,
                    lease_expires_at INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX webhook_deliveries_by_due ON webhook_deliveries(due_at) WHERE due_at IS NOT NULL;
                CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, id);

                CREATE TABLE webhook_attempts (
                    id INTEGER PRIMARY KEY,
                    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
                    at INTEGER NOT NULL,
                    status INTEGER,
                    duration_ms INTEGER NOT NULL,
                    response TEXT,                       -- the first bytes of the answer (bounded)
                    error TEXT
                );
                CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id, id);
                """),
        Migration(
            version: 4, name: "operation counts, retention indexes",
            sql: """
                -- Operations by state, kept by triggers in the transaction of every change, so /metrics
                -- and the queue bound read four rows instead of counting the table.
                CREATE TABLE operation_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO operation_counts (state, n)
                    SELECT s.column1, (SELECT COUNT(*) FROM operations WHERE state = s.column1)
                    FROM (VALUES ('queued'), ('running'), ('succeeded'), ('failed')) AS s;
                CREATE TRIGGER operations_count_insert AFTER INSERT ON operations BEGIN
                    UPDATE operation_counts SET n = n + 1 WHERE state = new.state;
                END;
                CREATE TRIGGER operations_count_update AFTER UPDATE OF state ON operations WHEN old.state IS NOT new.state BEGIN
                    UPDATE operation_counts SET n = n - 1 WHERE state = old.state;
                    UPDATE operation_counts SET n = n + 1 WHERE state = new.state;
                END;
                CREATE TRIGGER operations_count_delete AFTER DELETE ON operations BEGIN
                    UPDATE operation_counts SET n = n - 1 WHERE state = old.state;
                END;

                -- What the retention sweep walks: old rows first, and the references that keep a shared row.
                CREATE INDEX operations_finished_by_age ON operations(updated_at) WHERE state IN ('succeeded', 'failed');
                CREATE INDEX operations_by_result ON operations(result_id) WHERE result_id IS NOT NULL;
                CREATE INDEX operation_calls_by_call ON operation_calls(call_id);
                CREATE INDEX webhook_events_by_age ON webhook_events(created_at);
                CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_id);
                CREATE INDEX webhook_deliveries_finished_by_age ON webhook_deliveries(updated_at) WHERE due_at IS NULL;
                """),
        Migration(
            version: 5, name: "inbound idempotency: in-flight leases, secret references",
            sql: """
                -- Until when an in-flight claim with no operation holds its key; after that a dead
                -- process's claim frees the key. NULL on older rows: created_at + the lease.
                ALTER TABLE inbound_requests ADD COLUMN lease_expires_at INTEGER;
                -- For answers that showed a secret: what to re-read at replay ("<endpoint id> <sha256 of
                -- the secret as shown>"); the stored body never holds the secret.
                ALTER TABLE inbound_requests ADD COLUMN secret_ref TEXT;
                """),
        Migration(
            version: 6, name: "the bootstrap key, marked",
            sql: """
                -- NULL: a key of `keys create`; 1: the key GATEWAY_BOOTSTRAP_API_KEY names; 0: one it
                -- named before (revoked when it was replaced).
                ALTER TABLE api_keys ADD COLUMN bootstrap INTEGER;
                -- Earlier versions added a key like this at each change of the variable and never
                -- revoked one: the newest is taken as the current one, the others as former ones,
                -- revoked at the next change.
                UPDATE api_keys SET bootstrap = 0
                    WHERE name = 'bootstrap' AND scopes = 'admin,read,webhooks,write' AND merchants IS NULL;
                UPDATE api_keys SET bootstrap = 1
                    WHERE id = (SELECT id FROM api_keys WHERE bootstrap = 0 ORDER BY created_at DESC, id DESC LIMIT 1);
                CREATE UNIQUE INDEX api_keys_one_bootstrap ON api_keys(bootstrap) WHERE bootstrap = 1;
                """),
        Migration(
            version: 7, name: "W3C trace ids on operations and webhook events",
            sql: """
                -- The W3C trace of the request that created the operation (its id, the caller's flags and
                -- tracestate): its job's calls to Rokt and the webhooks it causes continue it, also after
                -- a restart. NULL on older rows.
                ALTER TABLE operations ADD COLUMN trace_id TEXT;
                ALTER TABLE operations ADD COLUMN trace_flags INTEGER;
                ALTER TABLE operations ADD COLUMN trace_state TEXT;
                ALTER TABLE webhook_events ADD COLUMN trace_id TEXT;
                ALTER TABLE webhook_events ADD COLUMN trace_flags INTEGER;
                ALTER TABLE webhook_events ADD COLUMN trace_state TEXT;
                """),
        Migration(
            version: 8, name: "publishable keys",
            sql: """
                -- `secret` (rgw_) or `publishable` (pk_); older rows are secret keys. `origins`: a
                -- publishable key's browser origins, a JSON array; NULL for a secret key.
                ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'secret';
                ALTER TABLE api_keys ADD COLUMN origins TEXT;
                """),
    ]
}
