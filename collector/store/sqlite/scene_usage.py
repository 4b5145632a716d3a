"""Each customer's primary usage measure per local day (``[health] scene_measures``), for peers,
adoption and the usual level that ``usage_drop`` compares with.

Why a read of its own: the interaction sums (``health.usage_sums``) are one metric; a scene's
measure may be other metrics (a KTV's deliveries, a conference's sign-ins and lead-the-way) and the
usual level needs each of the last 35 local days, not sums.  Each customer reads only its own
scene's metrics, a short range of the covering index ``customer_hour_metric`` per metric:
500 customers x 35 x 24 rows per metric, read again only when a past hour changes (``health.kept``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping

from collector.store.sqlite.sql import dialect
from protocol.timeunits import DAY_MS

WANT_TABLE = "health_measure"
DAYS = 35


def read(conn: sqlite3.Connection, custs: list[dict], wanted: Mapping[str, tuple[str, ...]],
         local_table: str) -> dict[str, dict[str, list[int]]]:
    """``{customer: {metric: [DAYS local-day totals, oldest first, the last = yesterday]}}`` for the
    metrics of each customer's scene (``wanted``: scene -> metrics; ``""`` for any other scene)."""
    d = dialect(conn)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {WANT_TABLE} (customer TEXT NOT NULL, metric TEXT NOT NULL,"
                 f" PRIMARY KEY (customer, metric)){d.without_rowid}")
    conn.execute(f"DELETE FROM {d.temp}{WANT_TABLE}")
    default = wanted.get("", ())
    conn.executemany(f"INSERT INTO {d.temp}{WANT_TABLE} (customer, metric) VALUES (?, ?) ON CONFLICT DO NOTHING",
                     [(c["id"], m) for c in custs for m in wanted.get((c.get("scene") or "").lower(), default)])
    out: dict[str, dict[str, list[int]]] = defaultdict(dict)
    sql = (f"SELECT t.customer, w.metric, (h.bucket_ms - t.start_ms + {DAYS * DAY_MS}) / {DAY_MS}, SUM(h.total)"
           f" FROM {d.temp}{local_table} t JOIN {d.temp}{WANT_TABLE} w ON w.customer = t.customer"
           f" {d.cross_join} customer_hour h{d.indexed('customer_hour_metric')}"
           " ON h.metric = w.metric AND h.customer = t.customer"
           f" AND h.bucket_ms >= t.start_ms - {DAYS * DAY_MS} AND h.bucket_ms < t.start_ms GROUP BY 1, 2, 3")
    for customer, metric, day, total in conn.execute(sql):
        days = out[customer].get(metric)
        if days is None:
            days = out[customer][metric] = [0] * DAYS
        days[day] = total
    return out
