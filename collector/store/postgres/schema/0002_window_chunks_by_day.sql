-- Raw window chunks partitioned by receive day (UTC), so that retention drops a whole day's partition
-- instead of deleting its rows one batch at a time (collector/store/postgres/partitions.py makes the
-- days ahead and drops the expired ones).  Rows received on a day without a partition of its own (a
-- store older than this migration, a clock far off) land in the default partition, which retention
-- empties by batched deletes as before.
--
-- The key must hold the partition column, so it is (robot, stream, last_seq, received_ms).  Exactly
-- once does not rest on it: the ingest part reads a stream's stored seqs under the stream's lock
-- inside the flush's transaction (collector/store/postgres/ingest.py).

CREATE TABLE window_chunks_by_day (
    robot       TEXT NOT NULL,
    stream      TEXT NOT NULL,
    last_seq    BIGINT NOT NULL,
    first_seq   BIGINT NOT NULL,
    bucket_ms   BIGINT NOT NULL,
    n           INTEGER NOT NULL,
    received_ms BIGINT NOT NULL,
    windows     BYTEA NOT NULL,
    PRIMARY KEY (robot, stream, last_seq, received_ms)
) PARTITION BY RANGE (received_ms);
CREATE TABLE window_chunks_default PARTITION OF window_chunks_by_day DEFAULT;
INSERT INTO window_chunks_by_day SELECT robot, stream, last_seq, first_seq, bucket_ms, n, received_ms, windows
    FROM window_chunks;
DROP TABLE window_chunks;
ALTER TABLE window_chunks_by_day RENAME TO window_chunks;
CREATE INDEX window_chunks_robot_bucket ON window_chunks (robot, bucket_ms);
CREATE INDEX window_chunks_received ON window_chunks (received_ms);
