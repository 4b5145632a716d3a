-- Store: per-customer daily usage totals, kept by the store at insert time (collector/store/customer_usage.py)
-- in the same transaction as the robot rollups, so exactly-once like them.
-- Why: customer health reads 30 days of usage for every customer every cycle; summed from
-- counter_day that is 10,000 robots x 30 days of rows at 500 customers, from here 500 x 30.
-- Holds the usage volumes and every skill.* metric.  Invariant (tested): each row is the SUM of
-- counter_day over the robots that belong to the customer now (robots.customer), the same sum the
-- health cycle used to compute by joining robots; a robot moved to another customer takes its rows along.
-- Key in bucket order: the cycle reads a range of days, retention deletes old days by range.
CREATE TABLE customer_day (
    bucket_ms INTEGER NOT NULL,
    metric    TEXT NOT NULL,
    customer  TEXT NOT NULL,
    total     INTEGER NOT NULL,
    PRIMARY KEY (bucket_ms, metric, customer)
);

-- Back-fill from the robot rollups already stored (same metric set as customer_usage.is_usage).
INSERT INTO customer_day (bucket_ms, metric, customer, total)
SELECT c.bucket_ms, c.metric, r.customer, SUM(c.total) FROM counter_day c JOIN robots r ON r.id = c.robot
WHERE c.metric IN ('usage.foot_traffic', 'usage.solicitations', 'usage.wakeups', 'usage.interactions')
   OR (c.metric >= 'skill.' AND c.metric < 'skill/')
GROUP BY c.bucket_ms, c.metric, r.customer;
