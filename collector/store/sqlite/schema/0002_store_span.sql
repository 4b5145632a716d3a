-- Store: the longest window a robot has sent, so the counters route knows how far past a range's
-- end a window that started inside it can reach (and corrects the rollups for exactly those).
-- Bucket indexes let retention delete old rollups in small chunks without scanning the table.
ALTER TABLE robots ADD COLUMN max_span_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX counter_hour_bucket ON counter_hour (bucket_ms);
CREATE INDEX gauge_hour_bucket ON gauge_hour (bucket_ms);
