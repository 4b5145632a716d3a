"""Times are integer milliseconds since the Unix epoch, UTC (docs/contract.md section 1).  Rollups bucket
a window by the UTC hour and day holding its ``t0``: the store writes them, health and the counters
route read them, so the bucket arithmetic lives here once."""

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def hour_start(ms: int) -> int:
    """The start of the UTC hour holding ``ms``."""
    return ms - ms % HOUR_MS


def day_start(ms: int) -> int:
    """The start of the UTC day holding ``ms``."""
    return ms - ms % DAY_MS


# ---------------------------------------------------------------- local days of a customer
# Why: a venue lives by its own calendar (Beijing 08:00 is not the start of its day).  Health
# labels a customer's local day by its date: ``local_day(ms, off)`` is that date's 00:00 *as if
# UTC* (so ``YYYY-MM-DD`` of it in UTC is the local date), and ``off`` the zone's UTC offset.
# The offset is taken at the instant being labelled; windows of 30 days across a daylight-saving
# change use today's offset for the whole span (an hour off at one end, documented).

def utc_offset_ms(zone: str, at_ms: int) -> int:
    """The UTC offset of the IANA ``zone`` at ``at_ms`` (ms; +05:30 is 19,800,000)."""
    import datetime as _dt
    from zoneinfo import ZoneInfo

    at = _dt.datetime.fromtimestamp(at_ms / 1000, _dt.timezone.utc).astimezone(ZoneInfo(zone))
    return int(at.utcoffset().total_seconds() * 1000)


def local_day(ms: int, off: int) -> int:
    """The label of the local day holding ``ms`` in a zone of offset ``off``: its date at 00:00 UTC."""
    return day_start(ms + off)


def local_day_start(ms: int, off: int) -> int:
    """The instant (UTC ms) the local day holding ``ms`` began."""
    return day_start(ms + off) - off


def known_zone(zone: str) -> bool:
    """Is ``zone`` an IANA time zone name this machine knows?"""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def parse_hours(text: str) -> tuple[int, int] | None:
    """Opening hours ``HH:MM-HH:MM`` (local; overnight allowed: ``18:00-02:00``; ``24:00`` ends a
    day) -> (open, close) in minutes after local midnight, or None when malformed or empty."""
    import re

    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not m:
        return None
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        return None
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return None if start == end % 1440 and start == end else (start, end)


def parse_site_hours(text: str) -> dict[str, str] | None:
    """Opening hours per site, ``site=HH:MM-HH:MM[;site=HH:MM-HH:MM...]`` (each as ``parse_hours``)
    -> ``{site: hours}`` ({} when empty), or None when malformed (a bad or repeated site, bad hours)."""
    import re

    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        site, sep, hours = part.partition("=")
        site, hours = site.strip(), hours.strip()
        if (not sep or site in out or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", site)
                or parse_hours(hours) is None):
            return None
        out[site] = hours
    return out


def local_days_back(zone: str, now_ms: int, days: int) -> list[tuple[int, int, int, int]]:
    """The local days of the IANA ``zone`` from today back ``days`` days: ``(label, start_ms, end_ms,
    off_ms)`` for k = 0 (today), 1 (yesterday), ... ``days``, each day's own midnights.

    Why: across a daylight-saving change today's offset applied to a day a month ago puts its
    boundaries an hour off; each day here starts at its own local midnight (a spring-forward day is
    23 hours long, a fall-back day 25) and ``off_ms`` is the offset at its start."""
    import datetime as _dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    today = _dt.datetime.fromtimestamp(now_ms / 1000, _dt.timezone.utc).astimezone(tz).date()
    out = []
    for k in range(days + 1):
        date = today - _dt.timedelta(days=k)
        start = _dt.datetime.combine(date, _dt.time(0), tzinfo=tz)
        end = _dt.datetime.combine(date + _dt.timedelta(days=1), _dt.time(0), tzinfo=tz)
        label = int(_dt.datetime.combine(date, _dt.time(0), tzinfo=_dt.timezone.utc).timestamp()) * 1000
        out.append((label, int(start.timestamp() * 1000), int(end.timestamp() * 1000),
                    int(start.utcoffset().total_seconds() * 1000)))
    return out
