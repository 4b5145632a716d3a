"""One health + alerts evaluation cycle over a large fleet: time and peak memory.

``python -m bench.health_cycle [--robots 10000] [--customers 500] [--days 30] [--db PATH] [--cold]``

Builds (or reuses, with ``--db``) a store holding 30 days of daily rollups and the last 48 hours
of hourly rollups for every robot, and 30 days of each customer's hourly usage totals
(``customer_hour``: the 48 hours summed from the robots', the days before spread over their hours,
as live ingest would have kept them), then, in a fresh process, times the FIRST cycle (nothing
evaluated before, cold connection) and a few warm ones one minute apart, with a minute of new data
for every robot written between cycles as the store would (not timed), and a restarted process's
first cycle, each with the process's peak RSS.  Each run works on a fresh copy of the built store
(the warm cycles add data), and ``--cold`` drops that copy from the OS page cache before the first
cycle and before the restart, as after a reboot.
Baseline in the same run: one plain ``SUM(total)`` over the same hourly and daily ranges the cycle
reads, i.e. the cost of just touching the data once.  Budget: <= 2 s and <= 500 MB per cycle.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES, error_metrics, subsystem_metrics

HOUR = 3_600_000
DAY = 86_400_000
NOW = 1_767_225_600_000 + 10 * HOUR + 17 * 60_000   # 2026-01-01 10:17 UTC
SCENES = ("museum", "ktv", "scenic", "conference", "mall", "bank", "hospital")
DENOMINATORS = tuple(m.name for sub in HEALTH_SUBSYSTEMS if sub != "network"
                     for m in subsystem_metrics(sub) if not m.is_error)
ERRORS = tuple(m.name for sub in HEALTH_SUBSYSTEMS for m in error_metrics(sub))
#: the skills of the scenes' primary measures too (museum guide, KTV delivery, conference sign-in and
#: lead-the-way: ``[health] scene_measures``), so each customer's measure has 30 days of hours to read
SKILLS = ("skill.guide", "skill.qa", "skill.sign_in", "skill.delivery", "skill.lead_way")


def robot_hour(rng: random.Random) -> dict[str, int]:
    """A robot's hour: every denominator and usage volume, each error counter 1 time in 8 (most
    robots ok, a few hundred warn or crit somewhere: alerts have work to do)."""
    counts = {m: rng.randint(20, 200) for m in DENOMINATORS}
    counts.update({m: rng.randint(10, 120) for m in USAGE_VOLUMES})
    counts.update({m: rng.randint(0, 10) for m in SKILLS})
    counts.update({m: rng.randint(1, 4) for m in ERRORS if rng.random() < 1 / 8})
    return counts


def build(path: Path, robots: int, customers: int, days: int) -> None:
    from collector.store.sqlite.db import connect_writer
    conn = connect_writer(path)
    rng = random.Random(42)
    conn.execute("BEGIN")
    for c in range(customers):
        end = time.strftime("%Y-%m-%d", time.gmtime((NOW + rng.randint(-30, 400) * DAY) / 1000))
        conn.execute("INSERT INTO customers (id, name, scene, contract_end, arr, created_ms, updated_ms)"
                     " VALUES (?,?,?,?,?,?,?)", (f"cust{c:04d}", f"Customer {c}", SCENES[c % len(SCENES)], end,
                                                 rng.randint(5, 200) * 1000.0, NOW, NOW))
    per = robots // customers
    ids = []
    for r in range(robots):
        cid = f"cust{r // per:04d}"
        first = NOW - rng.choice((days + 30, days + 30, days + 30, 12)) * DAY
        state = "offline" if rng.random() < 0.02 else "online"
        conn.execute("INSERT INTO robots (id, customer, site, scene, first_seen_ms, last_seen_ms, last_window_ms,"
                     " state, state_reason) VALUES (?,?,?,?,?,?,?,?,?)",
                     (f"r{r:05d}", cid, f"{cid}-s{r % 3}", "", first, NOW, NOW - rng.randint(0, 100) * 1000, state,
                      "lost" if state == "offline" else None))
        ids.append(f"r{r:05d}")
    conn.execute("COMMIT")
    day0 = NOW - NOW % DAY
    hour0 = NOW - NOW % HOUR
    for i, rid in enumerate(ids):
        rows_d, rows_h = [], []
        for d in range(days + 1):
            day = day0 - (days - d) * DAY
            hour = robot_hour(rng)
            rows_d += [(rid, m, day, v * 24) for m, v in hour.items() if v]
        for h in range(48):
            rows_h += [(rid, m, hour0 - h * HOUR, v) for m, v in robot_hour(rng).items() if v]
        if i % 500 == 0:
            conn.execute("BEGIN")
        conn.executemany("INSERT INTO counter_day (robot, metric, bucket_ms, total) VALUES (?,?,?,?)", rows_d)
        conn.executemany("INSERT INTO counter_hour (robot, metric, bucket_ms, total) VALUES (?,?,?,?)", rows_h)
        if i % 500 == 499 or i == len(ids) - 1:
            conn.execute("COMMIT")
            print(f"  built {i + 1}/{len(ids)} robots", file=sys.stderr, flush=True)
    from collector.store.sqlite import customer_usage
    conn.execute("BEGIN")
    customer_usage.rebuild(conn)  # rows written above straight into counter_day: the store would have kept it
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    spread_hours(conn, hour0 - 47 * HOUR, day0 - days * DAY)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def spread_hours(conn: sqlite3.Connection, before_ms: int, since_ms: int) -> None:
    """``customer_hour`` for the hours from ``since_ms`` to ``before_ms`` (the robots' hourly rollups
    start there): each ``customer_day`` total spread evenly over the day's 24 hours (the remainder
    in its first hour), so the customer's 30 local days of hours exist as the store would keep them."""
    conn.execute(
        "WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < 23)"
        " INSERT INTO customer_hour (bucket_ms, metric, customer, total)"
        f" SELECT d.bucket_ms + h.k * {HOUR}, d.metric, d.customer,"
        " d.total / 24 + CASE WHEN h.k = 0 THEN d.total % 24 ELSE 0 END"
        " FROM customer_day d CROSS JOIN h"
        f" WHERE d.bucket_ms + h.k * {HOUR} >= ? AND d.bucket_ms + h.k * {HOUR} < ? AND d.total > 0"
        " ON CONFLICT (bucket_ms, metric, customer) DO NOTHING", (since_ms, before_ms))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(path: Path) -> float:
    """A plain SUM over the buckets the cycle reads: the hour view's and 30 days of daily rollups."""
    from collector.store.seam import hour_view_start
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    # through the covering bucket indexes: the cheapest way to touch every row once
    conn.execute("SELECT SUM(total) FROM counter_hour INDEXED BY counter_hour_bucket_robot"
                 " WHERE bucket_ms >= ? AND bucket_ms <= ?", (hour_view_start(NOW), NOW)).fetchone()
    conn.execute("SELECT SUM(total) FROM counter_day INDEXED BY counter_day_bucket_robot"
                 " WHERE bucket_ms >= ? AND bucket_ms <= ?", (NOW - NOW % DAY - 30 * DAY, NOW)).fetchone()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def cycles(path: Path, first_minute: int, count: int) -> list[dict]:
    """In a fresh process: ``count`` cycles one minute of event time apart from ``first_minute``
    after NOW.  Before every cycle but the very first, the store's part is played (not timed): a
    minute of new data for every robot, as live ingest would have written meanwhile."""
    from collector.alerts.evaluator import evaluate, settings_of
    from collector.health.memory import HealthMemory
    from collector.store.sqlite import seed
    from collector.store.sqlite.db import connect_writer
    from collector.store.sqlite.shared import EvaluatorParts
    from protocol.config import Values
    conn = connect_writer(path)
    store = EvaluatorParts(conn)  # the evaluator's parts on the connection that writes the new minutes
    robots = [r[0] for r in conn.execute("SELECT id FROM robots")]
    rng = random.Random(first_minute)
    out = []
    memory = HealthMemory()  # as the collector's evaluator keeps it
    for minute in range(first_minute, first_minute + count):
        now = NOW + minute * 60_000
        if minute > 0:
            seed.write_windows(conn, [(rid, now - 60_000, now, {m: max(1, v // 60) for m, v in robot_hour(rng).items()})
                                      for rid in robots])
        started = time.perf_counter()
        summary = evaluate(store, now, settings_of(Values()), memory)
        out.append({"seconds": time.perf_counter() - started, "rss_mb": rss_mb(),
                    **{k: v for k, v in summary.items() if k.endswith("_s") or k in ("robots", "customers")}})
    conn.close()
    return out


def evict(path: Path) -> None:
    """Drop the store's pages from the OS page cache (``posix_fadvise DONTNEED``, this file only), so
    the next cycle reads it from disk as a collector started after a reboot would."""
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def child(path: Path, first_minute: int, count: int) -> list[dict]:
    cmd = [sys.executable, "-m", "bench.health_cycle", "--db", str(path), "--child", f"{first_minute}:{count}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(result.stdout)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.health_cycle", description=__doc__.split("\n")[0])
    parser.add_argument("--robots", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--warm", type=int, default=3, help="warm cycles after the first")
    parser.add_argument("--db", help="store to reuse (built when missing)")
    parser.add_argument("--cold", action="store_true",
                        help="evict the store from the page cache before the first cycle (and before the restart)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        first, count = map(int, args.child.split(":"))
        print(json.dumps(cycles(Path(args.db), first, count)))
        return 0
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="bench-health-")) / "store.db"
    try:
        return _run(args, path)
    finally:
        if not args.db:  # a 2 GB store nobody asked to keep
            shutil.rmtree(path.parent, ignore_errors=True)


def _run(args: argparse.Namespace, built: Path) -> int:
    if not built.exists():
        print(f"building {built} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        build(built, args.robots, args.customers, args.days)
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    # every run works on a fresh copy: the warm cycles add data, and runs must stay comparable
    path = built.with_name(built.name + ".run")
    conn = sqlite3.connect(built)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)  # a crashed run's WAL would be replayed onto the fresh copy
    shutil.copyfile(built, path)
    try:
        return _measure(args, path)
    finally:
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)


def _measure(args: argparse.Namespace, path: Path) -> int:
    from collector.store.sqlite.db import connect_writer
    connect_writer(path).close()  # migrations a store built by an older version lacks (not timed)
    conn = sqlite3.connect(path)
    for table in ("robot_health", "customer_health", "score_history", "alerts", "alert_events", "feed_events",
                  "notifications"):
        conn.execute(f"DELETE FROM {table}")  # every run starts from a store that was never evaluated
    conn.commit()
    rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("robots", "customers", "counter_hour", "counter_day")}
    conn.close()
    base = min(baseline(path) for _ in range(3))  # best of 3: the floor of touching the data
    if args.cold:
        evict(path)
    runs = child(path, 0, 1 + args.warm)        # first cycle ever, then warm ones
    if args.cold:
        evict(path)
    restart = child(path, 1 + args.warm, 1)[0]  # a restarted collector's first cycle (health rows exist)
    all_runs = runs + [restart]
    ok = max(r["seconds"] for r in all_runs) <= 2.0 and max(r["rss_mb"] for r in all_runs) <= 500
    print(f"\n### health cycle: {args.robots} robots, {args.customers} customers, {args.days} days\n")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; store "
          f"{path.stat().st_size / 2**20:.0f} MB, rows {rows}\n")
    print(f"page cache: {'store evicted before the first cycle and the restart (--cold)' if args.cold else 'warm'}\n")
    print("| run | seconds | ratio to baseline | read / compute / health write / alerts s | robot views / usage reads s"
          " | process peak RSS MB |")
    print("|---|---|---|---|---|---|")
    print(f"| baseline: plain SUM over the same hour buckets and 30 days (best of 3) | {base:.3f} | 1.0 | - | - | - |")
    names = ["first cycle (fresh process, never evaluated)"] + [f"warm cycle {i}" for i in range(1, len(runs))]
    for name, r in zip(names + ["first cycle after a restart"], all_runs):
        phases = " / ".join(f"{r[k]:.2f}" for k in ("read_s", "compute_s", "health_write_s", "alerts_s"))
        reads = f"{r['robot_views_s']:.2f} / {r['usage_read_s']:.2f}"
        print(f"| {name} | {r['seconds']:.3f} | {r['seconds'] / base:.1f} | {phases} | {reads} | {r['rss_mb']:.0f} |")
    print(f"\nbudget (<= 2 s, <= 500 MB per cycle): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
