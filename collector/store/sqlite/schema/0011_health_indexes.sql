-- Health and alerts, second step (owner: health).
-- Covering indexes so one evaluation cycle over 10,000 robots reads without sorting or row lookups:
-- a bucket's rows come ordered by robot (GROUP BY robot without a temporary b-tree), and a robot's
-- daily usage is one seek per (robot, metric) when walking robots in customer order.
CREATE INDEX counter_hour_bucket_robot ON counter_hour (bucket_ms, robot, metric, total);
CREATE INDEX counter_day_bucket_robot ON counter_day (bucket_ms, robot, metric, total);
CREATE INDEX counter_day_robot_cover ON counter_day (robot, metric, bucket_ms, total);

-- Hysteresis and notification bookkeeping of an alert.
ALTER TABLE alerts ADD COLUMN clear_since_ms INTEGER;          -- since when the clearing condition holds
ALTER TABLE alerts ADD COLUMN notified_ms INTEGER;             -- last notification queued
ALTER TABLE alerts ADD COLUMN notify_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN value REAL;                      -- the rule's measured value, last cycle
CREATE INDEX alerts_parent ON alerts (parent_id);
