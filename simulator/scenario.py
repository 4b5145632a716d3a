"""Scenarios in TOML: who the customers are, their robots, and what goes wrong when.

A scenario is data, not code, so a CS person can write one.  Every problem raises
``protocol.config.ConfigError`` naming the exact key (``customers[2].scene``), like the agent's
and collector's configs do.  Times in a scenario are either absolute (``2026-01-31``,
``2026-01-31T09:00:00Z``) or relative to the moment the simulation goes live (``-30d``,
``+90s``, ``+2m``, ``0``), so one file works on any day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from protocol import DEFAULT_PREFIX
from protocol.config import ConfigError, read_toml
from protocol.topics import is_valid_id
from simulator import outcomes
from simulator.profiles import PROFILES

FAULT_KINDS = ("site_network_down", "lidar_failing", "asr_degrading", "powered_off", "disengaging",
               "never_onboarded", "clock_skew")
#: what each fault kind is about: the keys it needs besides kind/customer
FAULT_TARGET = {
    "site_network_down": "site", "lidar_failing": "robot", "asr_degrading": "robot_or_customer",
    "powered_off": "robot", "disengaging": "customer", "never_onboarded": "customer", "clock_skew": "robot",
}
FAULT_KEYS = {"kind", "customer", "site", "robot", "start", "end", "to", "rate", "offset", "clean"}
SCENARIO_KEYS = {"name", "seed", "interval_s", "publish_interval_s", "backfill_days", "backfill_window_s",
                 "backfill_recent_s", "backfill_recent_window_s", "utc_offset_h", "local_start", "topic_prefix", "description"}
CUSTOMER_KEYS = {"id", "name", "scene", "tier", "csm", "sites", "robots", "opening_hours", "closed_days",
                 "engagement", "onboarded", "contract_start", "contract_end", "arr"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIERS = ("high-touch", "mid-touch", "data-triggered", "tech-touch")

_OFFSET_RE = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, None: 1}
_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Robot:
    id: str
    customer: str
    site: str
    scene: str
    index: int


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    scene: str
    tier: str
    csm: str
    sites: tuple[str, ...]
    robots: tuple[Robot, ...]
    open_min: int           # opening time, minutes after local midnight
    close_min: int          # closing time; may be past midnight (KTV): close_min > 1440
    closed_days: frozenset[int]  # 0 = Monday
    engagement: float       # 0..1: how much the customer uses its robots, and how steadily
    onboarded_ms: int       # when the robots were installed: nothing exists before
    contract_start: str     # YYYY-MM-DD
    contract_end: str
    arr: float


@dataclass(frozen=True)
class Fault:
    kind: str
    customer: str
    start_ms: int
    end_ms: int | None      # None: until the end of the run
    site: str | None = None
    robot: str | None = None
    to: float = 0.0         # disengaging: final usage multiplier
    rate: float = 0.0       # lidar_failing / asr_degrading: peak error rate
    offset_ms: int = 0      # clock_skew
    clean: bool = False     # powered_off: switched off properly (offline/shutdown) or power cut (lost)

    def active(self, t_ms: int) -> bool:
        return self.start_ms <= t_ms and (self.end_ms is None or t_ms < self.end_ms)

    def progress(self, t_ms: int) -> float:
        """0 at start, 1 at end (and after); a fault without end ramps over a day."""
        span = (self.end_ms - self.start_ms) if self.end_ms is not None else 86_400_000
        return min(1.0, max(0.0, (t_ms - self.start_ms) / max(span, 1)))

    def applies_to(self, robot: Robot) -> bool:
        if robot.customer != self.customer:
            return False
        if self.robot is not None and robot.id != self.robot:
            return False
        return self.site is None or robot.site == self.site


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    live_start_ms: int      # simulated time at which the live part begins
    interval_s: int
    publish_interval_s: float
    backfill_days: float
    backfill_window_s: int
    backfill_recent_s: int  # the last part of the history, in short windows (1-hour views are full at once)
    backfill_recent_window_s: int
    utc_offset_s: int       # local time of the customers (opening hours, days)
    topic_prefix: str
    customers: tuple[Customer, ...]
    faults: tuple[Fault, ...] = field(default_factory=tuple)
    #: success goals and commercial events (simulator/outcomes.py), imported by the demo
    goals: tuple[dict, ...] = field(default_factory=tuple)
    events: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def robots(self) -> tuple[Robot, ...]:
        return tuple(r for c in self.customers for r in c.robots)

    def customer(self, customer_id: str) -> Customer:
        return next(c for c in self.customers if c.id == customer_id)

    def faults_for(self, robot: Robot) -> tuple[Fault, ...]:
        return tuple(f for f in self.faults if f.applies_to(robot))


# ---------------------------------------------------------------- parsing helpers

def parse_offset(value: Any, key: str) -> float:
    """``-30d`` / ``+90s`` / ``2m`` / a number of seconds -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        m = _OFFSET_RE.match(value.strip())
        if m:
            sign = -1 if m.group(1) == "-" else 1
            return sign * float(m.group(2)) * _UNIT_S[m.group(3)]
    raise ConfigError(key, f"{value!r} is not an offset like -30d, +90s, 2m, 1h or 0")


def parse_time(value: Any, key: str, live_ms: int) -> int:
    """An absolute date/datetime or an offset from the live start -> ms since the epoch."""
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(dt.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(key, f"{value!r} is not a date YYYY-MM-DD or an ISO time") from None
        return parse_time(dt if "T" in value or " " in value else dt.date(), key, live_ms)
    return live_ms + int(parse_offset(value, key) * 1000)


def to_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _get(table: dict, key: str, kind: type | tuple, where: str, default: Any = ..., check=None) -> Any:
    full = f"{where}.{key}" if where else key
    if key not in table:
        if default is ...:
            raise ConfigError(full, "is required")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(full, f"expected {names}, got {type(value).__name__} {value!r}")
    if check is not None:
        reason = check(value)
        if reason:
            raise ConfigError(full, reason)
    return value


def _unknown(table: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ConfigError(f"{where}.{extra[0]}" if where else extra[0], "unknown key")


def _id(value: str) -> str | None:
    return None if is_valid_id(value) else "must match ^[a-z0-9][a-z0-9_-]{0,63}$"


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _hours(value: str, key: str) -> tuple[int, int]:
    m = _HOURS_RE.match(value.strip())
    if not m:
        raise ConfigError(key, f"{value!r} is not HH:MM-HH:MM")
    h0, m0, h1, m1 = (int(x) for x in m.groups())
    if h0 > 24 or h1 > 24 or m0 > 59 or m1 > 59:
        raise ConfigError(key, f"{value!r} is not a time of day")
    start, end = h0 * 60 + m0, h1 * 60 + m1
    if end == start:
        raise ConfigError(key, "opening and closing times are equal")
    if end < start:  # past midnight, e.g. a KTV open 12:00-02:00
        end += 1440
    return start, end


# ---------------------------------------------------------------- loading

def _live_start(raw: dict, now_ms: int, where: str) -> tuple[int, int]:
    """(live start ms, utc offset s).  ``local_start = "10:30"`` picks the customers' time zone so
    that the live part begins at 10:30 local time whenever it runs: a demo always opens in the
    morning, never to a fleet asleep at night."""
    offset_h = _get(raw, "utc_offset_h", (int, float), where, 8, lambda v: None if -12 <= v <= 14 else
                    "must be between -12 and 14")
    offset_s = int(offset_h * 3600)
    local_start = _get(raw, "local_start", str, where, "")
    if local_start:
        m = re.match(r"^(\d{1,2}):(\d{2})$", local_start)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ConfigError(f"{where}.local_start", f"{local_start!r} is not HH:MM")
        want_s = int(m.group(1)) * 3600 + int(m.group(2)) * 60
        utc_s = (now_ms // 1000) % 86400
        offset_s = (want_s - utc_s) % 86400
        if offset_s > 14 * 3600:
            offset_s -= 86400
    return now_ms, offset_s


def _customer(raw: Any, i: int, live_ms: int, seen: set[str]) -> Customer:
    where = f"customers[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    _unknown(raw, CUSTOMER_KEYS, where)
    cid = _get(raw, "id", str, where, check=_id)
    if cid in seen:
        raise ConfigError(f"{where}.id", f"duplicate customer id {cid!r}")
    seen.add(cid)
    scene = _get(raw, "scene", str, where, check=lambda v: None if v in PROFILES else
                 f"unknown scene {v!r}; one of {', '.join(PROFILES)}")
    tier = _get(raw, "tier", str, where, "mid-touch",
                lambda v: None if v in TIERS else f"must be one of {', '.join(TIERS)}")
    sites = _get(raw, "sites", list, where, ["main"])
    if not sites:
        raise ConfigError(f"{where}.sites", "needs at least one site")
    for j, site in enumerate(sites):
        if not isinstance(site, str) or _id(site):
            raise ConfigError(f"{where}.sites[{j}]", f"{site!r} must match ^[a-z0-9][a-z0-9_-]{{0,63}}$")
    if len(set(sites)) != len(sites):
        raise ConfigError(f"{where}.sites", "duplicate site")
    n = _get(raw, "robots", int, where, check=lambda v: None if 1 <= v <= 10_000 else "must be 1..10000")
    robots = []
    for k in range(n):
        rid = f"{cid}-r{k + 1:02d}" if n < 100 else f"{cid}-r{k + 1:04d}"
        if len(rid) > 64:
            raise ConfigError(f"{where}.id", "too long to name its robots (id + '-rNN' must fit 64)")
        robots.append(Robot(rid, cid, sites[k % len(sites)], scene, k))
    open_min, close_min = _hours(_get(raw, "opening_hours", str, where, "09:00-18:00"),
                                 f"{where}.opening_hours")
    closed = _get(raw, "closed_days", list, where, [])
    for j, day in enumerate(closed):
        if day not in DAYS:
            raise ConfigError(f"{where}.closed_days[{j}]", f"{day!r} is not one of {', '.join(DAYS)}")
    engagement = float(_get(raw, "engagement", (int, float), where, 0.8,
                            lambda v: None if 0 <= v <= 1 else "must be between 0 and 1"))
    onboarded = parse_time(_get(raw, "onboarded", (str, date, int), where, "-365d"), f"{where}.onboarded",
                           live_ms)
    if onboarded > live_ms:
        raise ConfigError(f"{where}.onboarded", "is after the simulation starts")
    c_start = parse_time(_get(raw, "contract_start", (str, date, int), where, to_date(onboarded)),
                         f"{where}.contract_start", live_ms)
    c_end = parse_time(_get(raw, "contract_end", (str, date, int), where, "+365d"), f"{where}.contract_end",
                       live_ms)
    if c_end <= c_start:
        raise ConfigError(f"{where}.contract_end", "must be after contract_start")
    arr = float(_get(raw, "arr", (int, float), where, 0, lambda v: None if v >= 0 else "must be >= 0"))
    return Customer(cid, _get(raw, "name", str, where, cid), scene, tier, _get(raw, "csm", str, where, ""),
                    tuple(sites), tuple(robots), open_min, close_min,
                    frozenset(DAYS.index(d) for d in closed), engagement, onboarded,
                    to_date(c_start), to_date(c_end), arr)


def _fault(raw: Any, i: int, live_ms: int, customers: dict[str, Customer]) -> Fault:
    where = f"faults[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be a table")
    _unknown(raw, FAULT_KEYS, where)
    kind = _get(raw, "kind", str, where, check=lambda v: None if v in FAULT_KINDS else
                f"unknown fault {v!r}; one of {', '.join(FAULT_KINDS)}")
    cid = _get(raw, "customer", str, where, check=lambda v: None if v in customers else
               f"no customer {v!r} in this scenario")
    customer = customers[cid]
    target = FAULT_TARGET[kind]
    site = _get(raw, "site", str, where, None)
    robot = _get(raw, "robot", str, where, None)
    if site is not None and site not in customer.sites:
        raise ConfigError(f"{where}.site", f"{cid} has no site {site!r}")
    if robot is not None:
        if robot.isdigit():  # "3": the customer's third robot
            if not 1 <= int(robot) <= len(customer.robots):
                raise ConfigError(f"{where}.robot", f"{cid} has no robot number {robot}")
            robot = customer.robots[int(robot) - 1].id
        elif robot not in {r.id for r in customer.robots}:
            raise ConfigError(f"{where}.robot", f"{cid} has no robot {robot!r}")
    if target == "site" and site is None:
        raise ConfigError(f"{where}.site", f"is required for {kind}")
    if target == "robot" and robot is None:
        raise ConfigError(f"{where}.robot", f"is required for {kind}")
    if target == "customer" and (robot or site):
        raise ConfigError(f"{where}.{'robot' if robot else 'site'}", f"{kind} is about a whole customer")
    if kind == "never_onboarded":
        start_ms, end_ms = customer.onboarded_ms, None
    else:
        start_ms = parse_time(_get(raw, "start", (str, int, float, date), where, 0), f"{where}.start", live_ms)
        end_raw = _get(raw, "end", (str, int, float, date), where, None)
        end_ms = None if end_raw is None else parse_time(end_raw, f"{where}.end", live_ms)
        if end_ms is not None and end_ms <= start_ms:
            raise ConfigError(f"{where}.end", "must be after start")
    to = float(_get(raw, "to", (int, float), where, 0.15, lambda v: None if 0 <= v <= 1 else "must be 0..1"))
    rate = float(_get(raw, "rate", (int, float), where, 0.5, lambda v: None if 0 < v <= 1 else "must be 0..1"))
    offset_ms = int(parse_offset(_get(raw, "offset", (str, int, float), where, 0), f"{where}.offset") * 1000)
    if kind == "clock_skew" and (offset_ms == 0 or abs(offset_ms) > 12 * 3600 * 1000):
        raise ConfigError(f"{where}.offset", "clock_skew needs an offset, non-zero and at most 12h")
    return Fault(kind, cid, start_ms, end_ms, site, robot, to, rate, offset_ms,
                 bool(_get(raw, "clean", bool, where, False)))


def parse(doc: dict, now_ms: int) -> Scenario:
    """Validate a TOML document (already parsed) into a Scenario whose live part starts at ``now_ms``."""
    _unknown(doc, {"scenario", "customers", "faults", "goals", "events"}, "")
    head = _get(doc, "scenario", dict, "", {})
    _unknown(head, SCENARIO_KEYS, "scenario")
    live_ms, offset_s = _live_start(head, now_ms, "scenario")
    prefix = _get(head, "topic_prefix", str, "scenario", DEFAULT_PREFIX)
    customers_raw = _get(doc, "customers", list, "")
    if not customers_raw:
        raise ConfigError("customers", "needs at least one [[customers]]")
    seen: set[str] = set()
    customers = tuple(_customer(c, i, live_ms, seen) for i, c in enumerate(customers_raw))
    by_id = {c.id: c for c in customers}
    faults = tuple(_fault(f, i, live_ms, by_id) for i, f in enumerate(_get(doc, "faults", list, "", [])))
    return Scenario(
        name=_get(head, "name", str, "scenario", "scenario"),
        seed=_get(head, "seed", int, "scenario", 1),
        live_start_ms=live_ms,
        interval_s=_get(head, "interval_s", int, "scenario", 10, _positive),
        publish_interval_s=float(_get(head, "publish_interval_s", (int, float), "scenario", 5, _positive)),
        backfill_days=float(_get(head, "backfill_days", (int, float), "scenario", 0,
                                 lambda v: None if 0 <= v <= 400 else "must be 0..400")),
        backfill_window_s=_get(head, "backfill_window_s", int, "scenario", 3600,
                               lambda v: None if 60 <= v <= 86400 else "must be 60..86400"),
        backfill_recent_s=_get(head, "backfill_recent_s", int, "scenario", 3600,
                               lambda v: None if 0 <= v <= 86400 else "must be 0..86400"),
        backfill_recent_window_s=_get(head, "backfill_recent_window_s", int, "scenario", 60,
                                      lambda v: None if 1 <= v <= 3600 else "must be 1..3600"),
        utc_offset_s=offset_s,
        topic_prefix=prefix,
        customers=customers,
        faults=faults,
        goals=outcomes.rows(doc.get("goals"), "goals", outcomes.GOAL_COLUMNS, live_ms, set(by_id)),
        events=outcomes.rows(doc.get("events"), "events", outcomes.EVENT_COLUMNS, live_ms, set(by_id)),
    )


def load(path: str | Path, now_ms: int) -> Scenario:
    doc = read_toml(path)
    return parse(doc, now_ms)


def builtin(name: str) -> Path:
    """Path of a scenario shipped with the package (``demo``)."""
    return Path(__file__).resolve().parent / "scenarios" / f"{name}.toml"


def customers_csv(scenario: Scenario) -> str:
    """The scenario's customers in the ``import-customers`` CSV format of the contract."""
    import csv
    import io

    from simulator.profiles import PROFILES

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "scene", "tier", "contract_start", "contract_end", "arr", "csm", "timezone",
                     "hours"])
    for c in scenario.customers:
        # a venue that cuts its robots' power at closing needs its hours known, not learned: learned
        # hours are whole hours and would keep it "open" up to an hour after the robots went off
        hours = collector_hours(scenario, c) if PROFILES[c.scene].off_when_closed else ""
        writer.writerow([c.id, c.name, c.scene, c.tier, c.contract_start, c.contract_end,
                         f"{c.arr:.0f}", c.csm, COLLECTOR_ZONE if hours else "", hours])
    return out.getvalue()


#: the zone the scenario's imported hours are written in (no daylight saving; the collector's default)
COLLECTOR_ZONE = "Asia/Shanghai"
COLLECTOR_ZONE_OFFSET_S = 8 * 3600


def collector_hours(scenario: Scenario, customer: Customer) -> str:
    """The customer's opening hours as ``import-customers`` takes them, in ``COLLECTOR_ZONE``.

    Why: the scenario's local time is often an offset to the second (``local_start``), which no
    IANA zone has, so the hours are converted to the collector's zone and rounded **inward** to
    the minute (opening up, closing down): the venue is never open for the collector while the
    simulated robots are already or still switched off.  Closed days are not carried (the
    contract's ``hours`` has none)."""
    shift = COLLECTOR_ZONE_OFFSET_S - scenario.utc_offset_s

    def minute(local_min: int, up: bool) -> int:
        sec = (local_min * 60 + shift) % 86400
        return (-(-sec // 60) if up else sec // 60) % 1440

    start, end = minute(customer.open_min, True), minute(customer.close_min, False)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
