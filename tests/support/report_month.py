"""A demo-like store for the monthly value report's tests, built straight through the store's rollup
writer (``collector.store.sqlite.seed``): customers in Chinese and English, two local months of
hourly windows in opening hours, a robot with a bad ASR, alerts opened and resolved.

``build(path, month_start_ms)`` returns a ``Built`` with the sums the test wrote (per customer,
metric and local month), kept here independently of anything the report computes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from collector.store.sqlite import seed
from collector.store.sqlite.db import connect_writer

HOUR = 3_600_000
ZONE = ZoneInfo("Asia/Shanghai")

#: id, name, scene, robots, language, hours (local), interactions per robot-hour, tz
CUSTOMERS = [
    ("nanjing-museum", "南京博物院", "museum", 5, "zh", "09:00-17:00", 70, None),
    ("river-gallery", "江畔美术馆", "museum", 2, "zh", "10:00-18:00", 40, None),
    ("harbour-mall", "Harbour City Mall", "mall", 3, "en", "10:00-22:00", 30, None),
    ("quiet-bank", "城市银行", "bank", 2, "zh", "09:00-17:00", 20, None),
    ("never-seen", "新签客户", "hospital", 0, "zh", None, 0, None),
]
SKILLS = {"museum": ("skill.guide", "skill.speech"), "mall": ("skill.lead_way", "skill.qa"),
          "bank": ("skill.sign_in",)}


def local_ms(y: int, m: int, d: int = 1, h: int = 0) -> int:
    return int(dt.datetime(y, m, d, h, tzinfo=ZONE).timestamp() * 1000)


def month_bounds(label: str) -> tuple[int, int]:
    y, m = int(label[:4]), int(label[5:])
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return local_ms(y, m), local_ms(ny, nm)


def month_label(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZONE).strftime("%Y-%m")


@dataclass
class Built:
    path: Path
    months: tuple[str, str]                       # (the month before, the month reported)
    sums: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)   # (customer, month) -> metric -> total
    robots: dict[str, list[str]] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)


def _counts(scene: str, base: int, robot_i: int, day: int, hour: int, bad_asr: bool) -> dict[str, int]:
    """One robot-hour's counters, varying by robot, day and hour (deterministic)."""
    wobble = (robot_i * 7 + day * 3 + hour) % 5
    inter = base + wobble * 3
    c = {"usage.foot_traffic": inter * 4 + 11, "usage.solicitations": inter * 2 + 5,
         "usage.wakeups": inter + 9, "usage.interactions": inter,
         "asr.requests": inter, "asr.unrecognized": inter // 2 if bad_asr else inter // 25,
         "nav.tasks": 6, "nav.interruptions": 1 if (day + hour) % 11 == 0 else 0,
         "net.disconnects": 1 if (day * 5 + hour + robot_i) % 37 == 0 else 0}
    for k, skill in enumerate(SKILLS.get(scene, ())):
        c[skill] = inter // (3 + k)
    return c


def build(path: Path, month: str) -> Built:
    """Customers, robots and hourly windows over ``month`` and the month before it (and one day of
    the month after, which the report must leave out); the bank's robots stop after the month
    before, so its reported month has no data."""
    start, end = month_bounds(month)
    prev_start = month_bounds(month_label(start - 1))[0]
    out = Built(path, (month_label(prev_start), month))
    conn = connect_writer(path)
    for cid, name, scene, n, lang, hours, base, _ in CUSTOMERS:
        seed.add_customer(conn, cid, scene, name=name, hours=hours, csm="Wang Fang" if lang == "en" else "王芳",
                          contract_end="2027-01-15",
                          now_ms=prev_start)
        conn.execute("UPDATE customers SET language = ? WHERE id = ?", (lang, cid))
        out.robots[cid] = [f"{cid}-r{i}" for i in range(n)]
        for rid in out.robots[cid]:
            seed.add_robot(conn, rid, cid, "hall", scene=scene, first_seen_ms=prev_start, now_ms=prev_start)
    windows = []
    t = prev_start
    until = end + 24 * HOUR
    while t < until:
        local = dt.datetime.fromtimestamp(t / 1000, ZONE)
        label = local.strftime("%Y-%m")
        for cid, name, scene, n, lang, hours, base, _ in CUSTOMERS:
            if not hours or cid == "quiet-bank" and t >= start:
                continue
            open_h, close_h = int(hours[:2]), int(hours[6:8])
            if not open_h <= local.hour < close_h:
                continue
            for i, rid in enumerate(out.robots[cid]):
                if cid == "harbour-mall" and i == 2 and local.day % 10 == 0:
                    continue  # one robot off every tenth day: availability under 100 %
                counts = _counts(scene, base, i, local.day, local.hour, cid == "nanjing-museum" and i == 4)
                windows.append((rid, t, t + HOUR, counts))
                bucket = out.sums.setdefault((cid, label), {})
                for metric, v in counts.items():
                    bucket[metric] = bucket.get(metric, 0) + v
        t += HOUR
    seed.write_windows(conn, windows)
    _alerts(conn, out, start)
    conn.close()
    _goals(path, month, prev_start)
    return out


def _goals(path: Path, month: str, now_ms: int) -> None:
    """Through the store's registry (the code behind import-goals): one goal met in the month, one
    behind, one that starts after it (not in its report)."""
    from collector.store import open_store
    from collector.store.records import GoalRow

    y, m = int(month[:4]), int(month[5:])
    first = dt.date(y, m, 1)
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))
    later = last + dt.timedelta(days=40)
    store = open_store(str(path))
    try:
        store.registry.upsert_goals([
            GoalRow("nanjing-museum", "interactions_per_robot_day", 500.0, first.isoformat(), last.isoformat(), ""),
            GoalRow("nanjing-museum", "conversion", 45.0, first.isoformat(), later.isoformat(), "agreed at the QBR"),
            GoalRow("nanjing-museum", "active_day_share", 90.0, (last + dt.timedelta(days=1)).isoformat(),
                    later.isoformat(), ""),
        ], "wang.fang", "import", now_ms)
    finally:
        store.close()


def _alerts(conn, out: Built, start: int) -> None:
    """Two alerts resolved in the month (after 90 and 30 minutes) and one left open."""
    rows = [("asr_bad", "subsystem_degraded", "nanjing-museum-r4", {"subsystem": "asr"}, 2 * 24, 90),
            ("net_lost", "robot_offline", "nanjing-museum-r1", {"state": "offline"}, 5 * 24, 30),
            ("still_open", "subsystem_degraded", "nanjing-museum-r4", {"subsystem": "asr"}, 20 * 24, None)]
    for key, rule, robot, facts, hours_in, minutes in rows:
        opened = start + hours_in * HOUR
        resolved = opened + minutes * 60_000 if minutes else None
        cur = conn.execute(
            "INSERT INTO alerts (rule, subject, customer, site, robot, severity, state, summary, facts, opened_ms, "
            "updated_ms, fired_ms, resolved_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rule, robot, "nanjing-museum", "hall", robot, "warning",
             "resolved" if resolved else "firing", f"{rule} {robot}", json.dumps(facts), opened, opened, opened,
             resolved))
        out.alerts[key] = cur.lastrowid


def build_demo(path: Path, month: str, now_ms: int) -> list[tuple[str, str]]:
    """The built-in demo scenario's customers (simulator/scenarios/demo.toml: names, scenes, robots,
    opening hours), imported through import-customers' own code, with a month of hourly windows in
    their opening hours (cheap counters, not the simulator's model: its Poisson draws cost seconds).
    Returns (customer id, name) of each."""
    import io

    from collector.store import customers as customer_import
    from collector.store import open_store
    from simulator import scenario

    scn = scenario.load(scenario.builtin("demo"), now_ms)
    csv_path = path.with_name("demo-customers.csv")
    csv_path.write_text(scenario.customers_csv(scn), encoding="utf-8")
    store = open_store(str(path))
    try:
        assert customer_import.import_file(str(csv_path), store.registry, io.StringIO(), io.StringIO()) == 0
    finally:
        store.close()
    start, end = month_bounds(month)
    conn = connect_writer(path)
    windows = []
    for c in scn.customers:
        for i, robot in enumerate(c.robots):
            seed.add_robot(conn, robot.id, c.id, robot.site, scene=c.scene, first_seen_ms=start, now_ms=start)
            for t in range(start, end, HOUR):
                local = dt.datetime.fromtimestamp(t / 1000, ZONE)
                minute = local.hour * 60
                if not (c.open_min <= minute < c.close_min or minute + 1440 < c.close_min):
                    continue
                windows.append((robot.id, t, t + HOUR, _counts(c.scene, int(60 * c.engagement), i, local.day,
                                                               local.hour, False)))
    seed.write_windows(conn, windows)
    conn.close()
    return [(c.id, c.name) for c in scn.customers]
