-- Health snapshots, score history, alerts and their timeline, notification queue, feed events.
-- Owner: health and alerts.  Later changes: 0011..0019.

-- Latest computed health of each robot.
CREATE TABLE robot_health (
    robot       TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    computed_ms INTEGER NOT NULL,
    state       TEXT NOT NULL,         -- online | offline | stale
    score       REAL NOT NULL,         -- 0..100
    worst       TEXT,                  -- the subsystem that sets the score
    subsystems  TEXT NOT NULL          -- JSON {subsystem: {state: ok|warn|crit|stale, rate_1h, rate_24h, ...}}
);
CREATE INDEX robot_health_customer ON robot_health (customer);

-- Latest computed health of each customer.
CREATE TABLE customer_health (
    customer      TEXT PRIMARY KEY,
    computed_ms   INTEGER NOT NULL,
    score         REAL NOT NULL,       -- 0..100
    color         TEXT NOT NULL,       -- green | yellow | red
    trend         TEXT NOT NULL,       -- up | down | flat (against 7 days ago)
    robots_total  INTEGER NOT NULL,
    robots_online INTEGER NOT NULL,
    robots_offline INTEGER NOT NULL,
    robots_stale  INTEGER NOT NULL,
    color_since_ms INTEGER NOT NULL,   -- when the customer took its current colour
    breakdown     TEXT NOT NULL,       -- JSON [{measure, score, weight, fact}]
    facts         TEXT NOT NULL        -- JSON: usage, peers, onboarding, contract, anomalies per subsystem
);

-- One row per customer per evaluation day (UTC), for trends and "since when red".
CREATE TABLE score_history (
    customer  TEXT NOT NULL,
    day_ms    INTEGER NOT NULL,
    score     REAL NOT NULL,
    color     TEXT NOT NULL,
    PRIMARY KEY (customer, day_ms)
);

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    rule             TEXT NOT NULL,
    subject          TEXT NOT NULL,    -- robot id, 'customer/site', or customer id
    customer         TEXT NOT NULL,
    site             TEXT,
    robot            TEXT,
    severity         TEXT NOT NULL,    -- info | warning | critical
    state            TEXT NOT NULL,    -- pending | firing | acknowledged | snoozed | resolved
    summary          TEXT NOT NULL,    -- one line a CSM reads
    facts            TEXT NOT NULL,    -- JSON: the facts that caused it
    parent_id        INTEGER,          -- a site_outage that explains this robot alert
    opened_ms        INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    fired_ms         INTEGER,
    resolved_ms      INTEGER,
    snoozed_until_ms INTEGER
);
CREATE INDEX alerts_customer ON alerts (customer, opened_ms);
CREATE INDEX alerts_state ON alerts (state);
-- one open alert per (rule, subject)
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, subject) WHERE state <> 'resolved';

-- Every transition, with its time and facts: the customer's timeline.
CREATE TABLE alert_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id  INTEGER NOT NULL,
    ts_ms     INTEGER NOT NULL,
    from_state TEXT,
    to_state  TEXT NOT NULL,
    actor     TEXT NOT NULL,           -- 'rules' or the acting token's name
    note      TEXT NOT NULL DEFAULT '',
    facts     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, ts_ms);

-- Webhook outbox: queued, retried with backoff, delivered at least once (idempotency key).
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    target          TEXT NOT NULL,     -- webhook name from the config
    payload         TEXT NOT NULL,     -- JSON body
    created_ms      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    delivered_ms    INTEGER,
    last_error      TEXT
);
CREATE INDEX notifications_due ON notifications (delivered_ms, next_attempt_ms);

-- Health changes and alert transitions, in order, for the SSE feed (id = Last-Event-ID).
CREATE TABLE feed_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms  INTEGER NOT NULL,
    kind   TEXT NOT NULL,    -- customer_health | robot_state | alert
    data   TEXT NOT NULL     -- JSON
);
