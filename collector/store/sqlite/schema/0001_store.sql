-- Core store: customers, robots, raw windows, rollups, recent rejects.
-- Portable SQL (SQLite and PostgreSQL): times are integer ms since the epoch (UTC),
-- dates are 'YYYY-MM-DD' text, JSON is text, blobs are msgpack.
-- Owner: collector store (ingest).  Later store changes: 0002..0009.

CREATE TABLE customers (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    scene          TEXT NOT NULL DEFAULT '',
    tier           TEXT NOT NULL DEFAULT '',
    contract_start TEXT,                      -- YYYY-MM-DD
    contract_end   TEXT,                      -- YYYY-MM-DD
    arr            REAL NOT NULL DEFAULT 0,
    csm            TEXT NOT NULL DEFAULT '',
    assigned       INTEGER NOT NULL DEFAULT 1, -- 0: created from telemetry of an unknown customer
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);

CREATE TABLE robots (
    id             TEXT PRIMARY KEY,
    customer       TEXT NOT NULL,
    site           TEXT NOT NULL,
    scene          TEXT NOT NULL DEFAULT '',
    agent_version  TEXT NOT NULL DEFAULT '',
    interval_s     INTEGER NOT NULL DEFAULT 10,
    first_seen_ms  INTEGER NOT NULL,          -- event time: t0 of the earliest window stored
    last_seen_ms   INTEGER NOT NULL,          -- receive time of the last message (any kind)
    last_window_ms INTEGER,                   -- event time: highest t1 stored
    state          TEXT NOT NULL DEFAULT 'unknown', -- online | offline | unknown (retained status)
    state_reason   TEXT,                      -- shutdown | lost, when offline
    state_ms       INTEGER,                   -- when the state was reported
    clock_skew_ms  INTEGER NOT NULL DEFAULT 0 -- agent 'sent' minus receive time, last batch
);
CREATE INDEX robots_customer ON robots (customer);

-- One row per window; (robot, stream, seq) makes delivery exactly-once.
CREATE TABLE windows (
    robot       TEXT NOT NULL,
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    t0          INTEGER NOT NULL,
    t1          INTEGER NOT NULL,
    counts      BLOB NOT NULL,   -- msgpack map: metric -> int
    gauges      BLOB,            -- msgpack map: metric -> float, or NULL
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (robot, stream, seq)
);
CREATE INDEX windows_robot_t0 ON windows (robot, t0);
CREATE INDEX windows_received ON windows (received_ms);

-- Counter rollups, kept up to date on insert.  A window is attributed to the bucket holding its t0.
-- bucket_ms is the UTC start of the hour / day.
CREATE TABLE counter_hour (
    robot     TEXT NOT NULL,
    metric    TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    total     INTEGER NOT NULL,
    PRIMARY KEY (robot, metric, bucket_ms)
);
CREATE TABLE counter_day (
    robot     TEXT NOT NULL,
    metric    TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    total     INTEGER NOT NULL,
    PRIMARY KEY (robot, metric, bucket_ms)
);
CREATE INDEX counter_day_bucket ON counter_day (bucket_ms, metric);

-- Gauge rollups: count, sum, min, max of the samples.
CREATE TABLE gauge_hour (
    robot     TEXT NOT NULL,
    metric    TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    total     REAL NOT NULL,
    low       REAL NOT NULL,
    high      REAL NOT NULL,
    PRIMARY KEY (robot, metric, bucket_ms)
);

-- Bounded list of recent rejects for an operator to inspect (the counters live in /metrics).
CREATE TABLE rejects (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms   INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    topic   TEXT NOT NULL,
    size    INTEGER NOT NULL,
    head    TEXT NOT NULL         -- first 32 bytes, hex
);
