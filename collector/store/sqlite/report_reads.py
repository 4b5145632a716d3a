"""What a customer's monthly value report reads (``collector/report``), in one snapshot.

Why a module of its own: the report reads a whole local month at once (the customer's hourly usage
of two months, its robots' hourly error counters, its peers' month, its alerts), which none of the
API's pages does; keeping that SQL here leaves ``reads.py`` to the pages.  Everything is summed from
rollups kept at insert time (``customer_hour``, ``counter_hour``, ``gauge_hour``): a month of a
20-robot customer is a few thousand index rows, never the raw windows.

A month is a range of UTC ms ``[from_ms, to_ms)``; an hour bucket belongs to it when its start does
(the rule health uses for local days, docs/health.md "Local days").
"""

from __future__ import annotations

import json
import sqlite3

from protocol.catalogue import CATALOGUE, HEALTH_SUBSYSTEMS, USAGE_VOLUMES

#: the robot counters the report's anomaly figures need: each health subsystem's error counters and
#: their denominators
ANOMALY_METRICS = tuple(sorted({m.name for m in CATALOGUE if m.subsystem in HEALTH_SUBSYSTEMS and m.kind == "counter"}))

#: the usage volumes and the catalogue's skills: read by name, a seek each on ``customer_hour_metric``
#: (metric, customer, bucket), not a range of every customer's hours (a skill outside the catalogue is
#: not in the report)
REPORTED = (*USAGE_VOLUMES, *(m.name for m in CATALOGUE if m.subsystem == "skills"))
#: the hours a robot reported in are read through these names: a seek per name on the rollups'
#: (robot, metric, bucket) keys, never a scan of the robot's two years of every metric
_COUNTERS = tuple(m.name for m in CATALOGUE if m.kind == "counter")
_GAUGES = tuple(m.name for m in CATALOGUE if m.kind == "gauge")
_CUSTOMER = ("id", "name", "scene", "tier", "csm", "contract_start", "contract_end", "arr", "timezone", "hours",
             "language", "created_ms")
_ALERT = ("id", "rule", "subject", "site", "robot", "severity", "state", "facts", "opened_ms", "fired_ms",
          "resolved_ms")


def _marks(values) -> str:
    return ",".join("?" * len(values))


def first_data_ms(conn: sqlite3.Connection, customer: str) -> int | None:
    """The start of the customer's first data: the earliest window stored of any of its robots, or
    its earliest hour of usage (a robot moved in brings its history along)."""
    robots = conn.execute("SELECT min(first_seen_ms) FROM robots WHERE customer = ? AND last_window_ms IS NOT NULL",
                          (customer,)).fetchone()[0]
    usage = conn.execute(f"SELECT min(bucket_ms) FROM customer_hour WHERE metric IN ({_marks(USAGE_VOLUMES)}) "
                         f"AND customer = ?", (*USAGE_VOLUMES, customer)).fetchone()[0]
    found = [v for v in (robots, usage) if v is not None]
    return min(found) if found else None


def customer_row(conn: sqlite3.Connection, customer: str) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(_CUSTOMER)} FROM customers WHERE id = ?", (customer,)).fetchone()
    return None if row is None else dict(zip(_CUSTOMER, row))


def report_inputs(conn: sqlite3.Connection, customer: str, from_ms: int, to_ms: int, prev_from_ms: int,
                  peers_to_ms: int | None = None) -> dict:
    """Everything the report of the month ``[from_ms, to_ms)`` is computed from (the month before is
    ``[prev_from_ms, from_ms)``; the peers up to ``peers_to_ms``); see ``ReadStore.report_inputs``."""
    out: dict = {"customer": customer_row(conn, customer), "first_data_ms": first_data_ms(conn, customer)}
    out["hours"] = conn.execute(
        f"SELECT bucket_ms, metric, total FROM customer_hour WHERE metric IN ({_marks(REPORTED)}) AND customer = ? "
        f"AND bucket_ms >= ? AND bucket_ms < ? ORDER BY bucket_ms", (*REPORTED, customer, prev_from_ms, to_ms)).fetchall()
    robots = conn.execute("SELECT r.id, r.site, r.first_seen_ms, r.last_window_ms, g.activated FROM robots r "
                          "LEFT JOIN robot_registry g ON g.robot = r.id WHERE r.customer = ? ORDER BY r.id",
                          (customer,)).fetchall()
    out["robots"] = [{"id": r[0], "site": r[1], "first_seen_ms": r[2], "last_window_ms": r[3], "activated": r[4]}
                     for r in robots]
    # health's robot-days never start before the collector's first data (collector/health/service.py)
    out["data_start_ms"] = conn.execute("SELECT min(first_seen_ms) FROM robots").fetchone()[0]
    counters: dict[str, dict[str, int]] = {}
    active: dict[str, set[int]] = {}
    marks = _marks(ANOMALY_METRICS)
    for rid, *_ in robots:
        counters[rid] = {m: int(t) for m, t in conn.execute(
            f"SELECT metric, SUM(total) FROM counter_hour WHERE robot = ? AND metric IN ({marks}) "
            f"AND bucket_ms >= ? AND bucket_ms < ? GROUP BY metric", (rid, *ANOMALY_METRICS, from_ms, to_ms))}
        active[rid] = {b for (b,) in conn.execute(
            f"SELECT bucket_ms FROM counter_hour WHERE robot = ? AND metric IN ({_marks(_COUNTERS)}) "
            f"AND bucket_ms >= ? AND bucket_ms < ? UNION SELECT bucket_ms FROM gauge_hour WHERE robot = ? "
            f"AND metric IN ({_marks(_GAUGES)}) AND bucket_ms >= ? AND bucket_ms < ?",
            (rid, *_COUNTERS, from_ms, to_ms, rid, *_GAUGES, from_ms, to_ms))}
    out["robot_counters"], out["robot_hours"] = counters, active
    out["peers"] = _peers(conn, customer, (out["customer"] or {}).get("scene"), from_ms,
                          to_ms if peers_to_ms is None else peers_to_ms)
    out["alerts"] = [_alert(r) for r in conn.execute(
        f"SELECT {', '.join(_ALERT)} FROM alerts WHERE customer = ? AND opened_ms < ? "
        f"AND (resolved_ms IS NULL OR resolved_ms >= ?) ORDER BY opened_ms, id", (customer, to_ms, from_ms))]
    return out


def _alert(row) -> dict:
    out = dict(zip(_ALERT, row))
    out["facts"] = json.loads(out["facts"] or "{}")
    return out


def _peers(conn: sqlite3.Connection, customer: str, scene: str | None, from_ms: int, to_ms: int) -> list[dict]:
    """The scene's other customers over the same range: their usage and skill totals, their opening
    hours, their hourly interactions and signs of life (``alive``: ``(bucket, interactions, any
    volume)``, for health's closing weekdays and learned hours) and their robots' first-seen times
    and handovers (for robot-days in service, as health counts them)."""
    if not scene:
        return []
    peers = {cid: {"id": cid, "hours": hours, "totals": {}, "robots": [], "alive": []} for cid, hours in conn.execute(
        "SELECT id, hours FROM customers WHERE scene = ? AND id <> ? ORDER BY id", (scene, customer))}
    if not peers:
        return []
    ids = tuple(peers)
    for cid, metric, total in conn.execute(
            f"SELECT customer, metric, SUM(total) FROM customer_hour WHERE metric IN ({_marks(REPORTED)}) "
            f"AND customer IN ({_marks(ids)}) AND bucket_ms >= ? AND bucket_ms < ? GROUP BY customer, metric",
            (*REPORTED, *ids, from_ms, to_ms)):
        peers[cid]["totals"][metric] = int(total)
    for cid, bucket, interactions, volumes in conn.execute(
            "SELECT customer, bucket_ms, SUM(CASE WHEN metric = 'usage.interactions' THEN total ELSE 0 END), "
            "SUM(total) FROM customer_hour WHERE metric IN ('usage.foot_traffic', 'usage.interactions') "
            f"AND customer IN ({_marks(ids)}) AND bucket_ms >= ? AND bucket_ms < ? GROUP BY customer, bucket_ms",
            (*ids, from_ms, to_ms)):
        peers[cid]["alive"].append((bucket, int(interactions), int(volumes)))
    for cid, first, last, activated in conn.execute(
            "SELECT r.customer, r.first_seen_ms, r.last_window_ms, g.activated FROM robots r "
            f"LEFT JOIN robot_registry g ON g.robot = r.id WHERE r.customer IN ({_marks(ids)})", ids):
        peers[cid]["robots"].append({"first_seen_ms": first, "last_window_ms": last, "activated": activated})
    return list(peers.values())


def report_customers(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every customer's (id, name), by id: what ``report --all`` walks."""
    return [(r[0], r[1]) for r in conn.execute("SELECT id, name FROM customers ORDER BY id")]
