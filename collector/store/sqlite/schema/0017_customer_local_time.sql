-- Health: each customer's local calendar and venue life (contract section 6, import-customers).
-- timezone: IANA name, NULL = [health] timezone; hours: opening hours 'HH:MM-HH:MM' in local time,
-- NULL = learned from the robots' own on/off pattern; language: as imported (distributor: 0008).
ALTER TABLE customers ADD COLUMN timezone TEXT;
ALTER TABLE customers ADD COLUMN hours TEXT;
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT 'zh';

-- Per-customer hourly usage totals, kept by the store at insert time beside customer_day (same
-- deltas, same transaction, same invariant over counter_hour; collector/store/sqlite/customer_usage.py).
-- Why: a customer's local day is 24 UTC hours that are not a UTC day (Beijing: 16:00 to 16:00 UTC),
-- so health sums local days from hours: 500 customers x 24 x 30 rows instead of 10,000 robots' hours.
CREATE TABLE customer_hour (
    bucket_ms INTEGER NOT NULL,
    metric    TEXT NOT NULL,
    customer  TEXT NOT NULL,
    total     INTEGER NOT NULL,
    PRIMARY KEY (bucket_ms, metric, customer)
);

-- One customer's metric over a range of hours (the cycle's 30-day sums, learned hours): a short
-- range of this covering index per customer instead of every customer's rows of those hours.
CREATE INDEX customer_hour_metric ON customer_hour (metric, customer, bucket_ms, total);

INSERT INTO customer_hour (bucket_ms, metric, customer, total)
SELECT c.bucket_ms, c.metric, r.customer, SUM(c.total) FROM counter_hour c JOIN robots r ON r.id = c.robot
WHERE c.metric IN ('usage.foot_traffic', 'usage.solicitations', 'usage.wakeups', 'usage.interactions')
   OR (c.metric >= 'skill.' AND c.metric < 'skill/')
GROUP BY c.bucket_ms, c.metric, r.customer;

-- Onboarding robots' active local days are summed from their hours: a partial covering index of each
-- robot's hourly interactions (as 0013 for the days) reads a short range per robot, no row lookups.
CREATE INDEX counter_hour_interactions ON counter_hour (robot, bucket_ms, total) WHERE metric = 'usage.interactions';
