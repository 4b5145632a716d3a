-- Commercial records (issue 14): the customer's reseller, and the events CS is measured on.
-- distributor: NULL = never imported (an import without the column leaves it as it is), '' = none.
ALTER TABLE customers ADD COLUMN distributor TEXT;

-- One row per commercial event, kept for good.  Identity (customer, date, kind, amount, referred_by):
-- importing the same row again finds it and changes nothing.  A renewal moves the customer's
-- contract_end; previous_end keeps the end it replaced (the term it renewed), so "due in a period"
-- can be answered as the contract stood before the renewal.
CREATE TABLE customer_events (
    id           INTEGER PRIMARY KEY,
    customer     TEXT NOT NULL,
    date         TEXT NOT NULL,               -- YYYY-MM-DD, the customer's local calendar
    kind         TEXT NOT NULL,               -- renewal | expansion | churn | referral
    amount       REAL NOT NULL DEFAULT 0,     -- renewed / added / signed ARR
    robots       INTEGER NOT NULL DEFAULT 0,  -- robots added (expansion)
    referred_by  TEXT NOT NULL DEFAULT '',    -- referral: the customer who referred this one
    contract_end TEXT,                        -- renewal: the new end
    previous_end TEXT,                        -- renewal: the end it replaced (kept up to date by the registry)
    note         TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,               -- who recorded it (import --by / OS user, or the API token's name)
    source       TEXT NOT NULL,               -- import | api
    created_ms   INTEGER NOT NULL,
    UNIQUE (customer, date, kind, amount, referred_by)
);

CREATE INDEX customer_events_date ON customer_events (date);
