-- Success goals per customer (issue 14, contract section 6: import-goals, POST /api/v1/customers/{id}/goals).
-- A goal: a metric of the documented set (collector/store/goals.py, docs/api.md), a target, and a
-- start and due date in the customer's local calendar.  Identity (customer, metric, start, due):
-- importing the same row again finds it; a different target or note updates it (updated_ms moves
-- only then, so re-importing the same file changes nothing).  Progress and status are computed
-- from the rollups (collector/health/goals.py), never stored.
CREATE TABLE customer_goals (
    id         INTEGER PRIMARY KEY,
    customer   TEXT NOT NULL,
    metric     TEXT NOT NULL,               -- interactions_per_robot_day | conversion | active_day_share | availability | skill:<name>
    target     REAL NOT NULL,               -- in the metric's unit (percent for the shares)
    start      TEXT NOT NULL,               -- YYYY-MM-DD, local, the first day counted
    due        TEXT NOT NULL,               -- YYYY-MM-DD, local, the last day counted
    note       TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL,               -- who set it (import --by / OS user, or the API token's name)
    source     TEXT NOT NULL,               -- import | api
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (customer, metric, start, due)
);
