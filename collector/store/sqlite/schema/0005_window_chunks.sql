-- Store: raw windows as chunks, one row per (robot, stream, UTC hour of t0) piece of a message,
-- instead of one row per window (collector/store/raw.py says why).  The windows column is a msgpack
-- array of [seq, t0, t1, counts, gauges] in seq order; every seq of a stream is in one chunk at most,
-- so (robot, stream, last_seq) is a key.  The old windows table's rows are moved here and the
-- table dropped by collector.store.raw.adopt_legacy_windows, run right after these statements.
CREATE TABLE window_chunks (
    robot       TEXT NOT NULL,
    stream      TEXT NOT NULL,
    last_seq    INTEGER NOT NULL,
    first_seq   INTEGER NOT NULL,
    bucket_ms   INTEGER NOT NULL,   -- UTC start of the hour holding every window's t0
    n           INTEGER NOT NULL,   -- windows in the chunk
    received_ms INTEGER NOT NULL,   -- when the message arrived (retention goes by it)
    windows     BLOB NOT NULL,
    PRIMARY KEY (robot, stream, last_seq)
);
CREATE INDEX window_chunks_robot_bucket ON window_chunks (robot, bucket_ms);
CREATE INDEX window_chunks_received ON window_chunks (received_ms);
