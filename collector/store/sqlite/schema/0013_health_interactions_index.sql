-- Health, fourth step (owner: health): a partial covering index of each robot's daily interactions.
-- Why: onboarding reads, for every robot first seen within 30 days, which days had interactions
-- above a floor.  Through the primary key that is one row lookup per robot and day, scattered over
-- the whole counter_day table, slow on the first cycle after a start (pages not cached; figures:
-- docs/benchmarks/health.md).  This index holds one small entry per robot and day, in robot order, so the read is a
-- short covered range per robot.  It only changes when a usage.interactions rollup does (one metric
-- in about fifteen), so ingest pays far less than for 0011's full covering copy dropped by 0012.
CREATE INDEX counter_day_interactions ON counter_day (robot, bucket_ms, total, metric) WHERE metric = 'usage.interactions';
