-- Store: which rollup buckets changed, and when (collector/store/marks.py).
-- Every flush that adds to a counter_hour or counter_day bucket bumps that bucket's `rev` in the same
-- transaction.  Why: the health cycle keeps the sums of complete buckets (the last hour, yesterday)
-- between cycles; late data (an agent uploading its backlog) lands in such a bucket and must be
-- seen on the next cycle.  Comparing one small row per bucket replaces counting the bucket's rows.
-- `grain` is the rollup table's name.
CREATE TABLE rollup_marks (
    grain     TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    rev       INTEGER NOT NULL,
    PRIMARY KEY (grain, bucket_ms)
);
