import Store

/// The gateway's tables, as versioned migrations. Never edit a shipped migration: add one.
enum Schema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "operations, jobs, upstream writes, api keys, inbound idempotency", sql: """
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
        Migration(version: 2, name: "merchants registered through the gateway", sql: """
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
    ]
}
