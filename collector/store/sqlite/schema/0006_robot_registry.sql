-- Store: the asset registry (import-robots): which robot belongs to which customer and site, the
-- local date it was handed over (activated) and its model.  Ingest's enrollment check
-- ([ingest] enroll) and health's onboarding read it; telemetry never writes it.
CREATE TABLE robot_registry (
    robot      TEXT PRIMARY KEY,
    customer   TEXT NOT NULL,
    site       TEXT NOT NULL,
    activated  TEXT,                 -- YYYY-MM-DD, the customer's local calendar; NULL: not known
    model      TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX robot_registry_customer ON robot_registry (customer);
