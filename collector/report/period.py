"""A report's month: ``YYYY-MM`` in the customer's own calendar, checked against now and its data.

Why here and not in the route: the API, the CLI and ``--all`` refuse the same months with the same
words.  A month is a customer's LOCAL month (its ``timezone``): for Beijing, November 2026 is
31 October 16:00 UTC to 30 November 16:00 UTC.  The bounds come from the zone's real offsets at
each end (a daylight-saving zone's month is 743 or 745 hours long), and each local day of it too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(Exception):
    """A month or customer a report cannot be made for: ``status`` 400 (a month that is malformed
    or has not begun) or 404 (no such customer, or a month before its first data)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    zone: str

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def _start(self, year: int, month: int) -> int:
        local = dt.datetime(year, month, 1, tzinfo=ZoneInfo(self.zone))
        return int(local.timestamp() * 1000)

    @property
    def from_ms(self) -> int:
        return self._start(self.year, self.month)

    @property
    def to_ms(self) -> int:
        y, m = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return self._start(y, m)

    def previous(self) -> Month:
        y, m = (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)
        return Month(y, m, self.zone)

    def days(self) -> list[tuple[str, int, int]]:
        """Each local day of the month: (``YYYY-MM-DD``, its start, its end), in UTC ms."""
        zone, out = ZoneInfo(self.zone), []
        day = dt.date(self.year, self.month, 1)
        while day.month == self.month:
            nxt = day + dt.timedelta(days=1)
            start = int(dt.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)
            end = int(dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp() * 1000)
            out.append((day.isoformat(), start, end))
            day = nxt
        return out


def local_month_of(ms: int, zone: str) -> str:
    """``YYYY-MM`` of the local month holding ``ms``."""
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).strftime("%Y-%m")


def parse_month(text: str, zone: str) -> Month:
    m = MONTH_RE.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1970:
        raise ReportError(400, f"month {text!r} is not a month: use YYYY-MM, e.g. 2026-11")
    return Month(int(m.group(1)), int(m.group(2)), zone)


def check_month(month: Month, now_ms: int, first_data_ms: int | None, customer: str) -> None:
    """Refuse a month that has not begun in the customer's zone (400) or that ends before its first
    data (404).  A customer with no data at all has no month to report."""
    if month.from_ms > now_ms:
        raise ReportError(400, f"month {month.label} has not begun yet for customer {customer} "
                               f"(its time zone {month.zone}: it is {local_month_of(now_ms, month.zone)} there)")
    if first_data_ms is None:
        raise ReportError(404, f"customer {customer} has no data yet: no report for month {month.label}")
    if month.to_ms <= first_data_ms:
        raise ReportError(404, f"month {month.label} is before customer {customer}'s first data "
                               f"({local_month_of(first_data_ms, month.zone)})")


def months_between(first_ms: int, now_ms: int, zone: str) -> list[str]:
    """Every local month from the one holding ``first_ms`` to the one holding ``now_ms``, oldest first."""
    first, last = local_month_of(first_ms, zone), local_month_of(now_ms, zone)
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def last_month(now_ms: int, zone: str) -> str:
    """``YYYY-MM`` of the local month before the one holding ``now_ms`` (the CLI's default)."""
    this = local_month_of(now_ms, zone)
    y, m = int(this[:4]), int(this[5:])
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"
