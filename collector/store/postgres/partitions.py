"""The raw table's daily partitions (migration 0002): made a few days ahead, dropped once expired.

Why: retention of raw windows is the store's biggest delete (every chunk, after ``raw_retention_days``).
Dropped as a whole day's partition it is a catalogue change instead of millions of row deletes, index
updates and vacuum work.  Rows of a day without a partition go to ``window_chunks_default`` and are
deleted in batches as on SQLite.

Partitions are named ``window_chunks_YYYYMMDD`` (the UTC day of ``received_ms``, the collector's wall
clock at receipt).  A partition is made before its day begins (``ensure``: today and ``AHEAD`` days
more), because PostgreSQL refuses to make one for a range the default partition already holds rows of.
Several collectors may run ``ensure`` at once: it takes a transaction-scoped advisory lock first.
"""

from __future__ import annotations

import datetime as dt
import re

from protocol.timeunits import DAY_MS

#: days made ahead of today
AHEAD = 2
#: the advisory lock partition changes take ("RPpartit")
PARTITION_LOCK = 0x5250706172746974
_NAME = re.compile(r"^window_chunks_(\d{8})$")


def name_of(day_ms: int) -> str:
    return "window_chunks_" + dt.datetime.fromtimestamp(day_ms / 1000, dt.timezone.utc).strftime("%Y%m%d")


def day_of(name: str) -> int | None:
    m = _NAME.match(name)
    if not m:
        return None
    day = dt.datetime.strptime(m.group(1), "%Y%m%d").replace(tzinfo=dt.timezone.utc)
    return int(day.timestamp() * 1000)


def existing(raw) -> dict[int, str]:
    """``{day_ms: partition name}`` of the day partitions attached now (``raw``: a psycopg connection)."""
    rows = raw.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                       " WHERE i.inhparent = 'window_chunks'::regclass").fetchall()
    return {day: name for (name,) in rows if (day := day_of(name)) is not None}


def ensure(raw, now_ms: int, ahead: int = AHEAD) -> list[str]:
    """Make the partitions of today and the next ``ahead`` days that are missing; the names made.
    Skips a day the default partition already holds rows of (they stay there, deleted in batches)."""
    today = now_ms - now_ms % DAY_MS
    want = [today + k * DAY_MS for k in range(ahead + 1)]
    if all(day in existing(raw) for day in want):
        return []
    made = []
    with raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
        have = existing(raw)
        for day in want:
            if day in have:
                continue
            if raw.execute("SELECT 1 FROM window_chunks_default WHERE received_ms >= %s AND received_ms < %s"
                           " LIMIT 1", (day, day + DAY_MS)).fetchone():
                continue
            name = name_of(day)
            raw.execute(f"CREATE TABLE {name} PARTITION OF window_chunks FOR VALUES FROM ({day}) TO ({day + DAY_MS})")
            made.append(name)
    return made


def drop_expired(raw, cutoff_ms: int) -> tuple[list[str], int]:
    """Drop the day partitions wholly before ``cutoff_ms``; their names and (estimated, from the
    planner's statistics: counting would read them) how many rows they held."""
    expired = {day: name for day, name in existing(raw).items() if day + DAY_MS <= cutoff_ms}
    if not expired:
        return [], 0
    rows = 0
    with raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
        for day, name in sorted(expired.items()):
            found = raw.execute("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = %s",
                                (name,)).fetchone()
            if found is None:  # dropped meanwhile by another collector
                continue
            rows += found[0]
            raw.execute(f"DROP TABLE IF EXISTS {name}")
    return sorted(expired.values()), rows
