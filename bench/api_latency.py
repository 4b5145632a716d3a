"""API latency under load: the overview, a customer page, the outcome rates and the CSMs' books with 500 customers and
10,000 robots, 20 concurrent clients in a second process on loopback.  Budget: p99 <= 100 ms.

The store is seeded directly (customers, robots, their health, 30 days of daily usage, alerts),
the collector's HTTP app serves it from a child process (``--serve``), and this process drives
the clients.  The baseline in the same run is ``/healthz`` (no database, no auth), or the
OpenAPI document when /healthz is not served: it shows what the machine and aiohttp cost alone.

``python -m bench.api_latency [--customers 500] [--robots 10000] [--requests 2000] [--clients 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY_MS = 86_400_000
SCENES = ("museum", "ktv", "scenic", "conference", "mall", "bank", "hospital")
VOLUMES = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")
SUBSYSTEMS = ("network", "vision", "touch", "nav", "asr", "nlp", "tts")
TOKEN = "bench-viewer-token"
BUDGET_P99_MS = 100.0


def seed(path: Path, customers: int, robots: int, now_ms: int) -> None:
    from collector.store.sqlite import customer_usage
    from collector.store.sqlite.db import connect_writer

    rnd = random.Random(7)
    conn = connect_writer(path)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers (id, name, scene, tier, contract_start, contract_end, arr, csm, created_ms, "
        "updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [(f"c{i:04d}", f"客户 {i} 博物馆", SCENES[i % len(SCENES)], "mid", "2025-01-01", "2026-12-31",
          10000.0 * (i % 9 + 1), f"csm{i % 12}", now_ms, now_ms) for i in range(customers)])
    first = now_ms - now_ms % DAY_MS - 29 * DAY_MS
    robot_rows, health_rows, usage_rows = [], [], []
    subs = json.dumps({s: {"state": "ok", "rate_1h": 0.0} for s in SUBSYSTEMS})
    for j in range(robots):
        rid, cid = f"r{j:05d}", f"c{j % customers:04d}"
        state = "online" if rnd.random() < 0.9 else "offline"
        robot_rows.append((rid, cid, f"site{j % 3}", SCENES[(j % customers) % len(SCENES)], now_ms - 40 * DAY_MS,
                           now_ms, now_ms, state))
        health_rows.append((rid, cid, now_ms, state, rnd.uniform(40, 100), subs))
        for d in range(30):
            for m in VOLUMES:
                usage_rows.append((rid, m, first + d * DAY_MS, rnd.randint(0, 1500)))
    conn.executemany("INSERT INTO robots (id, customer, site, scene, first_seen_ms, last_seen_ms, last_window_ms, "
                     "state) VALUES (?,?,?,?,?,?,?,?)", robot_rows)
    conn.executemany("INSERT INTO robot_health (robot, customer, computed_ms, state, score, worst, subsystems) "
                     "VALUES (?,?,?,?,?,NULL,?)", health_rows)
    conn.executemany("INSERT INTO counter_day (robot, metric, bucket_ms, total) VALUES (?,?,?,?)", usage_rows)
    customer_usage.rebuild(conn)  # rows written straight into counter_day: the store would have kept it
    per = max(1, robots // customers)
    breakdown = json.dumps([{"measure": "robot_health", "score": 80, "weight": 0.5, "fact": "x"}])
    for i in range(customers):
        score = rnd.uniform(20, 100)
        color = "green" if score >= 70 else "yellow" if score >= 50 else "red"
        conn.execute("INSERT INTO customer_health VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                     (f"c{i:04d}", now_ms, score, color, "flat", per, per - 1, 1, 0, now_ms - DAY_MS, breakdown,
                      "{}"))
        conn.executemany("INSERT INTO score_history VALUES (?,?,?,?)",
                         [(f"c{i:04d}", first + d * DAY_MS, score, color) for d in range(30)])
    for k in range(customers * 4):
        cid = f"c{k % customers:04d}"
        state = ("firing", "acknowledged", "resolved", "resolved")[k % 4]
        cur = conn.execute(
            "INSERT INTO alerts (rule, subject, customer, robot, severity, state, summary, facts, opened_ms, "
            "updated_ms) VALUES ('robot_offline', ?, ?, ?, 'critical', ?, 'offline', '{}', ?, ?)",
            (f"r{k:05d}" if state != "resolved" else f"old{k}", cid, f"r{k:05d}", state,
             now_ms - k * 60_000, now_ms))
        conn.execute("INSERT INTO alert_events (alert_id, ts_ms, to_state, actor) VALUES (?,?,?, 'rules')",
                     (cur.lastrowid, now_ms - k * 60_000, state))
    seed_outcomes(conn, customers, now_ms, rnd)
    seed_books(conn, customers, now_ms, rnd)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def seed_outcomes(conn, customers: int, now_ms: int, rnd: random.Random) -> None:
    """Issue 14: distributors, contract ends spread over two years, and four commercial events per
    customer (renewals with their previous end, expansions, referrals, churns) for the outcomes route."""
    import datetime as dt

    today = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
    rows = []
    for i in range(customers):
        cid = f"c{i:04d}"
        end = today + dt.timedelta(days=rnd.randint(-180, 540))
        conn.execute("UPDATE customers SET distributor = ?, contract_end = ? WHERE id = ?",
                     (("", "east", "west", "north")[i % 4], end.isoformat(), cid))
        for k in range(4):
            day = today - dt.timedelta(days=rnd.randint(0, 360))
            kind = ("renewal", "expansion", "referral", "churn")[(i + k) % 4]
            rows.append((cid, day.isoformat(), kind, float(rnd.randint(1, 20) * 1000), rnd.randint(0, 3),
                         f"c{(i + 1) % customers:04d}" if kind == "referral" else "",
                         (day + dt.timedelta(days=365)).isoformat() if kind == "renewal" else None,
                         (day + dt.timedelta(days=5)).isoformat() if kind == "renewal" else None,
                         "", "bench", "import", now_ms))
    conn.executemany("INSERT OR IGNORE INTO customer_events (customer, date, kind, amount, robots, referred_by, "
                     "contract_end, previous_end, note, actor, source, created_ms) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def seed_books(conn, customers: int, now_ms: int, rnd: random.Random) -> None:
    """Issue 14, the CSMs' books: the alerts fired (and the resolved ones resolved) when opened, and a
    colour change in the last week for one customer in five, so each book's week has content."""
    conn.execute("UPDATE alerts SET fired_ms = opened_ms + 1000")
    conn.execute("UPDATE alerts SET resolved_ms = opened_ms + 60000 WHERE state = 'resolved'")
    for i in range(0, customers, 5):
        day = now_ms - now_ms % DAY_MS - rnd.randint(0, 6) * DAY_MS
        conn.execute("UPDATE score_history SET color = CASE color WHEN 'green' THEN 'yellow' ELSE 'green' END "
                     "WHERE customer = ? AND day_ms >= ?", (f"c{i:04d}", day))


def book_compute_ms(db: Path, now_ms: int) -> list[float]:
    """The books' work without the response cache: read and compute each CSM's book once, in this
    process (what a request pays when the data changed since the last one)."""
    from collector.alerts.states import OPEN
    from collector.api import book
    from collector.store.sqlite.reads import SqliteReadStore

    reads = SqliteReadStore(str(db))
    out = []
    try:
        for k in range(12):
            started = time.perf_counter()
            start, first = book.since(now_ms)
            json.dumps(book.compute(f"csm{k}", reads.csm_book(f"csm{k}", start, first, OPEN), now_ms, "Asia/Shanghai"))
            out.append((time.perf_counter() - started) * 1000)
    finally:
        reads.close()
    return out


def serve(db: str, port: int) -> None:
    """Child process: the collector's HTTP app (API parts only, no health loop) on 127.0.0.1:port."""
    from aiohttp import web

    from collector.config import load_mapping
    from collector.app import create_app
    from collector.store import open_store

    config = load_mapping({"collector": {"db": db},
              "http": {"listen": f"127.0.0.1:{port}", "cors_origins": [], "feed_poll_ms": 200,
                       "feed_heartbeat_s": 15, "tokens": [{"token": TOKEN, "role": "viewer", "name": "bench"}]}})
    web.run_app(create_app(config, open_store(db)), host="127.0.0.1", port=port, print=None,
                access_log=None, handle_signals=True)


async def drive(base: str, paths: list[str], requests: int, clients: int) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    queue = iter(range(requests))
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def worker(session):
        nonlocal errors
        for n in queue:
            path = paths[n % len(paths)]
            started = time.perf_counter()
            async with session.get(base + path, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        for path in paths[:50]:  # warm up: connections, caches, the page cache of SQLite
            async with session.get(base + path, headers=headers) as resp:
                await resp.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"n": len(latencies), "errors": errors, "median": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "rps": len(latencies) / elapsed}


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--robots", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000, help="requests per route")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    now_ms = int(time.time() * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        t0 = time.monotonic()
        seed(db, args.customers, args.robots, now_ms)
        print(f"seeded {args.customers} customers, {args.robots} robots in {time.monotonic() - t0:.1f} s",
              file=sys.stderr)
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "bench.api_latency", "--serve", str(db), str(port)],
                                cwd=Path(__file__).resolve().parent.parent)
        try:
            wait_port(port, proc)
            base = f"http://127.0.0.1:{port}"
            import urllib.error
            import urllib.request
            try:
                urllib.request.urlopen(base + "/healthz", timeout=10).read()
                baseline = "/healthz"
            except urllib.error.HTTPError:
                baseline = "/api/v1/openapi.json"
            ids = [f"c{i:04d}" for i in range(args.customers)]
            random.Random(1).shuffle(ids)
            targets = {
                f"baseline `{baseline}`": [baseline],
                "overview `/api/v1/customers?limit=1000`": ["/api/v1/customers?limit=1000"],
                "customer, one page reloaded `/api/v1/customers/c0001`": ["/api/v1/customers/c0001"],
                "customer, all 500 in turn `/api/v1/customers/{id}`": [f"/api/v1/customers/{c}" for c in ids],
                "customer robots `/api/v1/customers/{id}/robots`": [f"/api/v1/customers/{c}/robots" for c in ids],
                "outcomes, a quarter by CSM `/api/v1/outcomes?group=csm`": [
                    f"/api/v1/outcomes?from={q}&to={e}&group={g}"
                    for q, e in (("2026-01-01", "2026-03-31"), ("2026-04-01", "2026-06-30"),
                                 ("2026-07-01", "2026-09-30"), ("2026-10-01", "2026-12-31"))
                    for g in ("csm", "distributor")],
                "CSM book, one reloaded `/api/v1/csms/csm1`": ["/api/v1/csms/csm1"],
                "CSM book, all 12 in turn `/api/v1/csms/{csm}`": [f"/api/v1/csms/csm{k}" for k in range(12)],
            }
            results = {name: asyncio.run(drive(base, paths, args.requests, args.clients))
                       for name, paths in targets.items()}
            uncached = book_compute_ms(db, now_ms)
        finally:
            proc.terminate()
            proc.wait(10)
    load = os.getloadavg()
    base_p99 = next(iter(results.values()))["p99"]
    print(f"\n### API latency ({args.customers} customers, {args.robots} robots, {args.clients} concurrent "
          f"clients, {args.requests} requests per route)\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end\n")
    print("| route | requests | errors | median ms | p99 ms | req/s | p99 / baseline p99 |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for name, r in results.items():
        print(f"| {name} | {r['n']} | {r['errors']} | {r['median']:.1f} | {r['p99']:.1f} | {r['rps']:.0f} | "
              f"{r['p99'] / base_p99:.1f} |")
        if not name.startswith("baseline"):
            ok &= r["p99"] <= BUDGET_P99_MS and r["errors"] == 0
    print(f"\nA CSM's book without the response cache (read + compute + JSON, {len(uncached)} books of "
          f"~{args.customers // 12} customers, one at a time in this process): median "
          f"{statistics.median(uncached):.1f} ms, max {max(uncached):.1f} ms")
    print(f"\nBudget p99 <= {BUDGET_P99_MS:.0f} ms for the overview and the customer page: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
