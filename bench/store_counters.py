"""Counters route latency against the size of the raw table: 1 million vs 10 million windows.

    python -m bench.store_counters [--robots 100] [--sizes 1000000,10000000] [--requests 50]

Each store is generated directly (as the writer stores windows: one chunk row per window, i.e. one
window per message, the most rows; ``--windows-per-chunk`` for batched fleets) (100 robots, 10-second windows, history growing with
the size: 1M = ~28 h per robot, 10M = ~11.6 days) with rollups consistent with the windows.  The
route is served by the real aiohttp app on loopback and asked for one robot's counters over (a) a
ragged 24-hour range and (b) the robot's whole history with ragged ends.  For comparison it also
times the same sum over raw windows.  Budget: the route's latency must not grow with the raw table
(10M median within 2x of 1M for the same 24-hour range).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HOUR = 3_600_000
DAY = 24 * HOUR
SPAN = 10_000
BASE = 1_767_225_600_000  # 2026-01-01T00:00Z
TOKEN = "bench-viewer-token"


def generate(db: Path, robots: int, total: int, per_chunk: int = 1) -> float:
    """Fill ``db`` with ``total`` windows over ``robots`` robots, stored as the writer stores them
    (chunks of ``per_chunk`` windows: 1 = one window per message, the most rows); returns seconds
    taken."""
    from collector.store.sqlite.apply import add_rollups
    from collector.store.sqlite.db import connect_writer
    from collector.store.sqlite.raw import INSERT_CHUNK, chunk_row
    from collector.store.sqlite.sql import insert_many

    started = time.perf_counter()
    per = total // robots
    conn = connect_writer(db)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("DROP INDEX window_chunks_robot_bucket")
    conn.execute("DROP INDEX window_chunks_received")
    counts = {"usage.interactions": 3, "nav.tasks": 1}
    conn.execute("BEGIN")
    for r in range(robots):
        robot = f"r{r:04d}"
        rows, chunk, bucket = [], [], None
        hours: dict[int, int] = {}
        for i in range(per):
            t0 = BASE + i * SPAN
            hb = t0 - t0 % HOUR
            hours[hb] = hours.get(hb, 0) + 1
            if chunk and (hb != bucket or len(chunk) == per_chunk):
                rows.append(chunk_row(robot, "aaaaaaaaaaaaaaaa", bucket, BASE, chunk))
                chunk = []
            bucket = hb
            chunk.append((i + 1, t0, t0 + SPAN, counts, {}))
        rows.append(chunk_row(robot, "aaaaaaaaaaaaaaaa", bucket, BASE, chunk))
        insert_many(conn, INSERT_CHUNK, rows)
        # the writer's own rollup path: hours, days (from the hours) and their marks
        add_rollups(conn, {(robot, hb): {m: k * n for m, k in counts.items()} for hb, n in hours.items()},
                    {robot: "acme"})
        conn.execute("INSERT INTO robots (id, customer, site, first_seen_ms, last_seen_ms, last_window_ms, "
                     "max_span_ms) VALUES (?, 'acme', 's1', ?, ?, ?, ?)",
                     (robot, BASE, BASE, BASE + (per - 1) * SPAN + SPAN, SPAN))
    conn.execute("COMMIT")
    conn.execute("CREATE INDEX window_chunks_robot_bucket ON window_chunks (robot, bucket_ms)")
    conn.execute("CREATE INDEX window_chunks_received ON window_chunks (received_ms)")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


async def measure(db: Path, robot: str, ranges: dict[str, tuple[int, int]], requests: int) -> dict:
    import aiohttp
    from aiohttp import web

    from collector.config import load
    from collector.app import create_app
    from collector.store import open_store
    from collector.store.sqlite.counters import raw_counters
    from collector.store.sqlite.db import connect_reader

    cfg = db.parent / "c.toml"
    cfg.write_text(f'[collector]\ndb = "{db}"\n[[http.tokens]]\ntoken = "{TOKEN}"\nrole = "viewer"\n')
    config = load(cfg, env={})
    app = create_app(config, open_store(config.collector.db))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    out = {}
    reader = connect_reader(db)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        for name, (a, b) in ranges.items():
            url = f"http://127.0.0.1:{port}/api/v1/robots/{robot}/counters?from={a}&to={b}"
            times = []
            for _ in range(requests):
                t = time.perf_counter()
                async with session.get(url) as resp:
                    body = await resp.json()
                    assert resp.status == 200, body
                times.append(time.perf_counter() - t)
            t = time.perf_counter()
            raw = raw_counters(reader, robot, a, b)
            raw_s = time.perf_counter() - t
            assert raw == body["counters"], (raw, body)
            out[name] = {"median_ms": 1000 * statistics.median(times),
                         "p95_ms": 1000 * sorted(times)[int(0.95 * len(times)) - 1],
                         "raw_ms": 1000 * raw_s, "sources": body["sources"]}
    reader.close()
    await runner.cleanup()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_counters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, default=100)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--windows-per-chunk", type=int, default=1,
                        help="windows per stored chunk (1: one window per message, the most rows)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-counters-") as tmp:
        for size in sizes:
            db = Path(tmp) / f"s{size}.db"
            gen_s = generate(db, args.robots, size, args.windows_per_chunk)
            per = size // args.robots
            end = BASE + per * SPAN
            ranges = {"24 h, ragged": (end - DAY - 17 * 60_000 - 3_000, end - 23 * 60_000),
                      "whole history, ragged": (BASE + 17 * 60_000 + 3_000, end - 23 * 60_000)}
            res = asyncio.run(measure(db, f"r{args.robots // 2:04d}", ranges, args.requests))
            results.append((size, gen_s, db.stat().st_size, res))
            print(f"  {size:,} windows generated in {gen_s:.0f} s", file=sys.stderr, flush=True)
            db.unlink()
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite WAL; {args.robots} robots, {args.requests} requests per range over loopback HTTP.\n")
    print("| raw windows | range | route median ms | route p95 ms | sources (days/hours/raw/corrected) | "
          "same sum from raw windows ms |")
    print("|---|---|---|---|---|---|")
    for size, _, _, res in results:
        for name, r in res.items():
            s = r["sources"]
            print(f"| {size:,} | {name} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | "
                  f"{s['days']}/{s['hours']}/{s['raw_windows']}/{s['corrected_windows']} | {r['raw_ms']:.1f} |")
    base = results[0][3]["24 h, ragged"]["median_ms"]
    ok = all(r[3]["24 h, ragged"]["median_ms"] <= 2 * base + 1 for r in results)
    print(f"\nBudget (24-hour range latency does not grow with the raw table): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
