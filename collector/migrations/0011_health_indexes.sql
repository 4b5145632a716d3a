-- Health and alerts, second step (owner: health).
-- Covering indexes so one evaluation cycle reads its views by range scans, never row lookups:
-- the hourly view by bucket, the daily usage by metric.
CREATE INDEX counter_hour_bucket_cover ON counter_hour (bucket_ms, metric, robot, total);
CREATE INDEX counter_day_metric_cover ON counter_day (metric, bucket_ms, robot, total);

-- Hysteresis and notification bookkeeping of an alert.
ALTER TABLE alerts ADD COLUMN clear_since_ms INTEGER;          -- since when the clearing condition holds
ALTER TABLE alerts ADD COLUMN notified_ms INTEGER;             -- last notification queued
ALTER TABLE alerts ADD COLUMN notify_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN value REAL;                      -- the rule's measured value, last cycle
CREATE INDEX alerts_parent ON alerts (parent_id);
