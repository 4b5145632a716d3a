"""Which rollup buckets changed: a revision per ``(grain, bucket)`` (``rollup_marks``), bumped in the
flush's transaction by every write that adds to a ``counter_hour`` or ``counter_day`` bucket.

Why: the health cycle keeps the sums it read from complete buckets (the last complete hour,
yesterday) between cycles.  Rollups change only through the store's writes, so an unchanged
revision means an unchanged bucket, and late data for a complete bucket (an agent uploading its
backlog) always shows as a new revision.  One small row per bucket to compare, instead of counting
a bucket's 150,000 rows every cycle.  Writers that fill rollups by other means (benchmark
builders) leave no marks: a reader's first read of a bucket must not depend on one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

UPSERT = ("INSERT INTO rollup_marks (grain, bucket_ms, rev) VALUES (?, ?, 1) "
          "ON CONFLICT (grain, bucket_ms) DO UPDATE SET rev = rollup_marks.rev + 1")


def touch(conn: sqlite3.Connection, hours: Iterable[int], days: Iterable[int]) -> None:
    """Bump the revision of every hour and day bucket this write added to."""
    rows = sorted([("counter_day", b) for b in set(days)] + [("counter_hour", b) for b in set(hours)])  # key order
    if rows:
        conn.executemany(UPSERT, rows)


def revisions(conn: sqlite3.Connection, buckets: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """``{(grain, bucket): rev}`` of the buckets asked for (0 for a bucket never marked)."""
    out = {}
    for grain, bucket in buckets:
        row = conn.execute("SELECT rev FROM rollup_marks WHERE grain = ? AND bucket_ms = ?", (grain, bucket)).fetchone()
        out[(grain, bucket)] = row[0] if row else 0
    return out
