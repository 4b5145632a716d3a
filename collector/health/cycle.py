"""The health half of one evaluation cycle: read the rollups, compute robot and customer health,
write the results, all at the event time ``now_ms`` passed in, through the store's ``health`` part.

Reads happen in one read snapshot, computing happens outside any transaction, and the writes go
in the caller's write transaction (``collector.alerts.evaluator`` adds the alert engine's writes
to it).  Health knows nothing of alerts: the rules read what ``compute`` returns.
"""

from __future__ import annotations

import gc
import json
import re
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from typing import Any

from collector.health import customer as cust
from collector.health import funnel, lifecycle
from collector.health import goals as goal_health
from collector.health import peers as peer
from collector.health import robot as rob
from collector.health import service
from collector.health.hours import closed, site_venues
from collector.health.hours import venue as venue_of
from collector.health.memory import HealthMemory, Written
from collector.store.seam import CustomerHealthRow, HealthStore, RobotHealthRow, SlotPlan
from protocol.catalogue import HEALTH_SUBSYSTEMS
from protocol.config import Values
from protocol.timeunits import DAY_MS, local_day, local_day_start, utc_offset_ms

PLAN = SlotPlan(rob.SLOT_OF, rob.SLOTS)


def _scene(customer: dict, robots: list[dict]) -> str:
    if customer.get("scene"):
        return customer["scene"]
    scenes = Counter(r["scene"] for r in robots if r.get("scene"))
    return scenes.most_common(1)[0][0] if scenes else ""


def _unlisted(cid: str, now_ms: int, hs: Values) -> dict:
    """A customer only its robots name (no ``customers`` row): the default zone's local day."""
    off = utc_offset_ms(hs.timezone, now_ms)
    return {"id": cid, "timezone": hs.timezone, "offset_ms": off, "day_start_ms": local_day_start(now_ms, off),
            "local_day": local_day(now_ms, off)}


def _assess_all(robot_rows: list[dict], hour: dict, day: dict, now_ms: int, hs: Values,
                memory: HealthMemory | None, before: dict[str, tuple]) -> list[dict]:
    """Every robot's health.  With ``memory``, a robot whose inputs did not change since the last
    cycle keeps its result (the inputs: its view vectors, its row, its state now, the views'
    starts and its levels last written, ``before``, that the hysteresis starts from; robots with
    network offline time or disconnects are always recomputed, as their rate depends on the
    seconds covered)."""
    last = memory.assess if memory is not None else {}
    kept = {}
    out = []
    hs0, ds0 = rob.hour_view_start(now_ms), rob.day_view_start(now_ms)
    planned = rob.plan(hs)
    off, disc = rob.OFFLINE_SLOT, rob.DISCONNECT_SLOT
    for r in robot_rows:
        h, d = hour.get(r["id"]), day.get(r["id"])
        was = before.get(r["id"])
        key = None
        if memory is not None and not (h and (h[off] or h[disc])) and not (d and (d[off] or d[disc])):
            # the view vectors are built anew every cycle and never changed after: kept as they are
            key = (h, d, rob.robot_state(r, now_ms, hs), hs0, ds0,
                   r["customer"], r["site"], r["state_reason"], r["first_seen_ms"], r["last_window_ms"], was)
            hit = last.get(r["id"])
            if hit is not None and hit[0] == key:
                out.append(hit[1])
                kept[r["id"]] = hit
                continue
        result = rob.assess(r, h, d, now_ms, hs, planned, rob.previous_levels(was) if was else None)
        out.append(result)
        if key is not None:
            kept[r["id"]] = (key, result)
    if memory is not None:
        memory.assess = kept
    return out


def _levels_before(health: HealthStore, memory: HealthMemory | None) -> dict[str, tuple]:
    """Each robot's levels as last written (``levels``), where its hysteresis starts: the loop's
    memory of the rows written (taken from the store on its first cycle), else the stored rows,
    so a result never depends on the memory."""
    if memory is not None:
        if memory.written is None:
            memory.written = _stored_memory(health)
        return {robot: kept.levels for robot, kept in memory.written.items()}
    return {robot: w.levels for robot, w in _stored_memory(health).items()}


def compute(health: HealthStore, now_ms: int, hs: Values, memory: HealthMemory | None = None) -> dict[str, Any]:
    """Read and compute, no writes: ``{robots: [...], customers: {id: ...}, sites: {robot: site}}``."""
    t0 = time.perf_counter()
    measures = peer.table(hs.scene_measures)
    inputs = health.read_inputs(now_ms, PLAN, hs.onboarding_days, hs.active_day_interactions,
                                memory.views if memory is not None else None, hs.timezone,
                                (hs.learn_hours_days, hs.learn_hours_share), peer.wanted(measures))
    customer_rows = {c["id"]: c for c in inputs.customers}
    robot_rows, usage, yesterday = inputs.robots, inputs.usage, inputs.yesterday
    read_s = time.perf_counter() - t0
    robots = _assess_all(robot_rows, inputs.hour, inputs.day, now_ms, hs, memory, _levels_before(health, memory))
    assess_s = time.perf_counter() - t0 - read_s
    by_customer_rows: dict[str, list[dict]] = defaultdict(list)
    by_customer: dict[str, list[dict]] = defaultdict(list)
    for row, health_ in zip(robot_rows, robots):
        by_customer_rows[row["customer"]].append(row)
        by_customer[row["customer"]].append(health_)
    # registry robots handed over and never connected: in service from their handover (robot-days),
    # listed in the usage facts as never seen; no robot health (nothing was ever heard from them)
    unseen: dict[str, list[dict]] = defaultdict(list)
    for row in inputs.unseen:
        unseen[row["customer"]].append(row)
    ids = sorted(set(customer_rows) | set(by_customer))
    uses, scenes, skills = {}, {}, {}
    # robots count from their handover or first day seen, never before the collector's first data
    data_start = min((r["first_seen_ms"] for r in robot_rows if r.get("first_seen_ms") is not None), default=None)
    for cid in ids:
        c = customer_rows.get(cid) or _unlisted(cid, now_ms, hs)
        scenes[cid] = _scene(c, by_customer_rows[cid])
        day_before = yesterday.get(cid, {})
        sums = usage.get(cid, {})
        known = venue_of(now_ms, c["offset_ms"], c.get("hours"), c.get("learned_hours")).source != "none"
        days = service.scheduled(by_customer_rows[cid] + unseen.get(cid, []), sums.get("alive"), c["local_day"],
                                 c["offset_ms"], data_start, known)
        uses[cid] = cust.usage(sums, day_before, days)
        # the scene's primary measure (peers.py), over the same robot-days in service: adoption,
        # peers and usage_drop judge on it
        measure = peer.measure_of(scenes[cid], measures)
        daily = peer.daily(measure, (customer_rows.get(cid) or {}).get("measure_days"))
        uses[cid]["primary"] = peer.primary(measure, daily, days, hs)
        uses[cid]["never_seen"] = [{"robot": r["id"], "site": r["site"], "activated": r["activated"]}
                                   for r in unseen.get(cid, []) if r["activated"] <= service.iso(c["local_day"])]
        skills[cid] = {m: v for m, v in day_before.items() if m.startswith("skill.")}
    # a customer without one complete robot-day in service has no figure yet: neither a peer nor compared
    peers = peer.compare({cid: (scenes[cid], uses[cid]["primary"]["per_robot_day_30d"],
                                uses[cid]["primary"]["benchmark"])
                          for cid in ids if by_customer[cid] and uses[cid]["robot_days_30d"] > 0}, hs)
    customers = {}
    for cid in ids:
        c = dict(customer_rows.get(cid) or _unlisted(cid, now_ms, hs))
        c["scene"] = scenes[cid]
        c["data_start_ms"] = data_start
        # robots off outside opening hours (or not back yet just after opening) are closed, not down
        c["venue"] = v = venue_of(now_ms, c["offset_ms"], c.get("hours"), c.get("learned_hours"))
        # a site with hours of its own (site_hours) is judged on them, the others on the customer's
        c["site_venues"] = own = site_venues(now_ms, c["offset_ms"], c.get("site_hours"))
        for r in by_customer[cid]:
            r["closed"] = closed(r, own.get(r["site"], v), now_ms, hs.opening_grace_s * 1000)
        customers[cid] = cust.assess(c, by_customer[cid], uses[cid], skills.get(cid, {}),
                                     peers.get(cid, {"scene": scenes[cid], "peers": 0, "percentile": None,
                                                     "median": None, "ratio": None}),
                                     inputs.active, by_customer_rows[cid], inputs.week_ago.get(cid), now_ms, hs)
    _hold_colors(health, customers, hs)
    funnel.attach(health, customers, now_ms)
    lifecycle.attach(health, customers, customer_rows, by_customer_rows, now_ms)
    t1 = time.perf_counter()
    goals = goal_health.judge_all(health, customer_rows, now_ms, hs.active_day_interactions)  # issue 14
    goals_s = time.perf_counter() - t1
    return {"robots": robots, "customers": customers, "now": now_ms, "goals": goals,
            "sites": {r["id"]: r["site"] for r in robot_rows},
            # each customer's (csm, tier): the webhooks' routing reads them (alerts/outbox.py)
            "accounts": {cid: (c.get("csm"), c.get("tier")) for cid, c in customer_rows.items()},
            "timing": {"read_s": read_s, "robot_views_s": inputs.robot_views_s, "day_view_s": inputs.day_view_s,
                       "usage_read_s": inputs.usage_read_s, "assess_s": assess_s,
                       "goals_s": goals_s, "compute_s": time.perf_counter() - t0 - read_s}}


def _hold_colors(health: HealthStore, customers: dict[str, dict], hs: Values) -> None:
    """Each customer's colour with hysteresis from the colour stored (``customer.color``); a
    dormant fleet stays red whatever its score (``customer.dormant``)."""
    before = health.customer_colors()
    for cid, c in customers.items():
        if not c["facts"].get("dormant"):
            c["color"] = cust.color(c["score"], hs, before.get(cid, (None, 0))[0])


SORTED_SUBSYSTEMS = tuple(sorted(HEALTH_SUBSYSTEMS))  # the order of the stored JSON (sort_keys)
#: each subsystem's level and state, in stored order (keys sorted: "level" comes before "state")
_STORED_LEVELS = re.compile(r'"level": "(\w+)".*?"state": "(\w+)"')


def levels(row: RobotHealthRow) -> tuple:
    """What must reach the store at once: customer, state, worst subsystem, the score's 5-point
    band and every subsystem's level and state (the rest are figures that may wait)."""
    subs = row.subsystems
    return (row.customer, row.state, row.score // 5, row.worst,
            tuple((subs[k]["level"], subs[k]["state"]) for k in SORTED_SUBSYSTEMS))


_encode = json.JSONEncoder(sort_keys=True).encode  # json.dumps(x, sort_keys=True), the stored form


def _stored_memory(health: HealthStore) -> dict[str, Written]:
    """The stored ``robot_health`` rows in the loop's memory form, ``written_ms`` being the row's
    ``computed_ms``: a restarted loop then writes exactly what a loop that had kept running would
    (same rows, same figure refresh), instead of rewriting every row whose figures moved.  The
    subsystems stay JSON text and their levels are picked out of it with a regular expression: 4x
    cheaper than parsing 10,000 documents (``_unchanged`` compares the text itself when it must)."""
    out = {}
    for robot, computed_ms, row in health.stored_robot_health():
        lv = (row.customer, row.state, row.score // 5, row.worst, tuple(_STORED_LEVELS.findall(row.subsystems)))
        out[robot] = Written(row, computed_ms, lv)
    return out


def _unchanged(kept: RobotHealthRow, row: RobotHealthRow) -> bool:
    """Is ``row`` the row last written (``kept``: with its subsystems as a dict or as stored text)?"""
    if isinstance(kept.subsystems, str):
        return kept[:4] == row[:4] and kept.subsystems == _encode(row.subsystems)
    return kept == row


def write(health: HealthStore, ctx: dict, now_ms: int, memory: HealthMemory | None = None,
          refresh_ms: int = 0) -> None:
    """Write what changed (call inside ``health.transaction()``).  ``memory`` (kept by the loop
    between cycles) holds the rows last written, so unchanged robots cost a comparison, not a JSON
    dump; a row whose state, score band, worst subsystem and subsystem levels are unchanged but
    whose figures moved is rewritten at most every ``refresh_ms`` (see ``levels``); a memory that
    has no rows yet (the loop's first cycle) starts from the stored rows (``_stored_memory``).
    Without memory the stored rows are read and every change is written."""
    if memory is not None and memory.written is None:
        # the loop's first cycle after a start: the stored rows are what it last wrote
        memory.written = _stored_memory(health)
    if memory is not None:
        previous = memory.written
        stored = None
    else:  # compare with the stored JSON text
        stored = {robot: row for robot, _, row in health.stored_robot_health()}
        previous = {}
    before = {robot: row.state for robot, row in stored.items()} if stored is not None else \
        {robot: kept.row.state for robot, kept in previous.items()}
    current: dict[str, Written] = {}
    changed: list[tuple[str, RobotHealthRow]] = []
    for r in ctx["robots"]:
        row = RobotHealthRow(r["customer"], r["state"], r["score"], r["worst"], r["subsystems"])
        if stored is None:
            lv = levels(row)
            kept = previous.get(r["robot"])
            if kept is not None and ((now_ms - kept.written_ms < refresh_ms and kept.levels == lv)
                                     or _unchanged(kept.row, row)):
                current[r["robot"]] = kept  # unchanged, or only figures moved and written recently
                continue
            changed.append((r["robot"], row._replace(subsystems=_encode(row.subsystems))))
        else:
            text = row._replace(subsystems=_encode(row.subsystems))
            if stored.get(r["robot"]) != text:
                changed.append((r["robot"], text))
            lv = levels(row)
        current[r["robot"]] = Written(row, now_ms, lv)
    if memory is not None:
        memory.written = current
    health.write_robot_health(now_ms, changed)
    feed = [(now_ms, "robot_state", {"robot": r["robot"], "customer": r["customer"], "site": r["site"],
                                     "from": before[r["robot"]], "state": r["state"], "ts": now_ms})
            for r in ctx["robots"] if r["robot"] in before and before[r["robot"]] != r["state"]]
    colors = health.customer_colors()
    rows = []
    for cid, c in ctx["customers"].items():
        old_color, since = colors.get(cid, (None, now_ms))
        if old_color != c["color"]:
            since = now_ms
            if old_color is not None:
                feed.append((now_ms, "customer_health", {"customer": cid, "from": old_color, "color": c["color"],
                                                         "score": c["score"], "trend": c["trend"], "ts": now_ms}))
        n = c["robots"]
        rows.append(CustomerHealthRow(cid, c["score"], c["color"], c["trend"], n["total"], n["online"],
                                      n["offline"], n["stale"], since, c["breakdown"], c["facts"]))
    # the score of each customer's own local day (the last one of the day stands)
    health.write_customer_health(now_ms, {cid: c["local_day"] for cid, c in ctx["customers"].items()}, rows)
    health.add_feed_events(feed)


def trim(health: HealthStore, now_ms: int, hs: Values, limit: int = 5000) -> None:
    """Retention of the live feed, a bounded slice per cycle so the write transaction stays short."""
    health.trim_feed(now_ms - hs.feed_retention_days * DAY_MS, limit)


@contextmanager
def gc_paused():
    """No cyclic garbage collection while a cycle runs.

    Why: a cycle over 10,000 robots allocates millions of short-lived tuples and dicts, which sets off
    full (generation 2) collections that walk every object of the process, a sizeable share of a
    cycle (figures: docs/benchmarks/health.md). Reference counting frees what a cycle allocates; the
    collector runs as usual again as soon as the cycle is over, so nothing accumulates."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
