-- Health, third step (owner: health): drop the (robot, metric, bucket_ms, total) covering index of 0011.
-- Why: it held `total`, so every rollup upsert of the store rewrote an entry in it (each flush, each
-- robot, each metric), while the customer usage reads it served are as fast through the primary
-- key's own index (robot, metric, bucket_ms) plus a row lookup (figures: docs/benchmarks/health.md).
-- The two bucket indexes of 0011 stay: they halve the health cycle's reads.
DROP INDEX IF EXISTS counter_day_robot_cover;
