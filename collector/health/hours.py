"""Opening hours of a venue: is it open now, and since when.

Why: robots switched off at closing time are a venue's night, not an outage.  A customer's hours
come from ``import-customers`` (``HH:MM-HH:MM`` in local time, overnight allowed) or, when not
given, are learned from its own usage by local hour (the store's ``learned_hours``: the hours of
the day with usage on more than ``health.learn_hours_share`` of the last ``health.learn_hours_days``
local days).  With neither (a new customer, or one whose robots were used around the clock) the
venue is always open, which is how health judged every venue before.
"""

from __future__ import annotations

from typing import NamedTuple

from protocol.timeunits import DAY_MS, HOUR_MS, parse_hours, parse_site_hours

MINUTE_MS = 60_000


class Venue(NamedTuple):
    open: bool                 # open now
    opened_ms: int | None      # when it last opened (None: always open, or closed now)
    source: str                # imported | learned | none
    hours: str                 # what a CSM reads: "09:00-21:00", "learned: 09:00-21:00", "always open"


def venue(now_ms: int, off: int, hours: str | None, learned: list[int] | None) -> Venue:
    """The venue's state at ``now_ms`` for a customer of UTC offset ``off``: imported ``hours``
    first, else the ``learned`` local hours of the day (0-23), else always open."""
    span = parse_hours(hours) if hours else None
    if span is not None:
        return _imported(now_ms, off, span, hours.strip())
    if learned and len(learned) < 24:
        return _learned(now_ms, off, set(learned))
    return Venue(True, None, "none", "always open")


def site_venues(now_ms: int, off: int, site_hours: str | None) -> dict[str, Venue]:
    """The venues of the customer's sites that keep hours of their own (``site_hours``, imported:
    ``site=HH:MM-HH:MM;...``); a site not named there keeps the customer's venue."""
    sites = parse_site_hours(site_hours) if site_hours else None
    return {site: _imported(now_ms, off, parse_hours(hours), hours) for site, hours in (sites or {}).items()}


def _imported(now_ms: int, off: int, span: tuple[int, int], text: str) -> Venue:
    start, end = span
    if end - start >= 1440 or (start == 0 and end == 1440):
        return Venue(True, None, "imported", text)
    local = now_ms + off
    midnight = local - local % DAY_MS
    minute = (local % DAY_MS) // MINUTE_MS
    end %= 1440
    is_open = start <= minute < end if start < end else (minute >= start or minute < end)
    if not is_open:
        return Venue(False, None, "imported", text)
    opened_local = midnight + start * MINUTE_MS if minute >= start else midnight - DAY_MS + start * MINUTE_MS
    return Venue(True, opened_local - off, "imported", text)


def _learned(now_ms: int, off: int, open_hours: set[int]) -> Venue:
    local = now_ms + off
    hour = (local % DAY_MS) // HOUR_MS
    text = "learned: " + ", ".join(_runs(open_hours))
    if hour not in open_hours:
        return Venue(False, None, "learned", text)
    back = 0
    while back < 24 and (hour - back - 1) % 24 in open_hours:
        back += 1
    opened_local = local - local % HOUR_MS - back * HOUR_MS
    return Venue(True, opened_local - off, "learned", text)


def _runs(hours: set[int]) -> list[str]:
    """Open hours as ``HH:00-HH:00`` runs (one across midnight kept whole)."""
    out, seen = [], set()
    for h in sorted(hours):
        if h in seen or (h - 1) % 24 in hours:
            continue
        end = h
        while (end + 1) % 24 in hours and (end + 1) % 24 != h:
            end = (end + 1) % 24
            seen.add(end)
        out.append(f"{h:02d}:00-{(end + 1) % 24:02d}:00")
    return out or ["never"]


def closed(robot: dict, v: Venue, now_ms: int, grace_ms: int) -> bool:
    """Is this robot's absence the venue's night rather than a fault?  A robot that is off or lost
    while the venue is closed, or, within ``grace_ms`` of opening, one not back since before it
    opened.  A robot lost during opening hours (it sent data after the venue opened) is not."""
    if robot["state"] == "online":
        return False
    if not v.open:
        return True
    if v.opened_ms is None:
        return False
    last = robot.get("last_window_ms") or 0
    return last < v.opened_ms and now_ms - v.opened_ms < grace_ms
