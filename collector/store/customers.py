"""``import-customers``: load customers and contracts from the CS team's CSV export.

UTF-8 with or without a BOM (Excel writes one).  Header ``id,name,scene,tier,contract_start,
contract_end,arr,csm``, optional ``timezone`` (IANA name), ``hours`` (opening hours ``HH:MM-HH:MM``,
local, overnight allowed), ``site_hours`` (per site, ``site=HH:MM-HH:MM;...``), ``distributor`` and
``language`` (``zh`` or ``en``); extra columns are ignored, ``id`` and ``name`` are required, the rest may
be empty.  Each bad row is reported with its line number and reason and skipped; good rows go in
(one transaction).  Re-importing updates existing customers and marks telemetry-created ones as
assigned.  Exit status: 0 all rows imported, 1 some rows bad, 2 the file itself is unusable.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from collector.store import csv_import
from collector.store.csv_import import Report
from collector.store.records import CustomerRow
from collector.store.seam import RegistryStore
from protocol.timeunits import known_zone, parse_hours, parse_site_hours
from protocol.topics import is_valid_id

COLUMNS = CustomerRow._fields
REQUIRED = ("id", "name")
MAX_TEXT = 200


def _date(value: str, column: str) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat() if len(value) == 10 else _bad_date(column, value)
    except ValueError:
        return _bad_date(column, value)


def _bad_date(column: str, value: str):
    raise ValueError(f"{column} {value[:40]!r} is not a date YYYY-MM-DD")


def _row(record: dict[str, str]) -> CustomerRow:
    get = lambda key: (record.get(key) or "").strip()  # noqa: E731
    cid, name = get("id"), get("name")
    if not cid:
        raise ValueError("id is empty")
    if not is_valid_id(cid):
        raise ValueError(f"id {cid[:40]!r} must match ^[a-z0-9][a-z0-9_-]{{0,63}}$")
    if not name:
        raise ValueError("name is empty")
    for key in ("name", "scene", "tier", "csm"):
        if len(get(key)) > MAX_TEXT:
            raise ValueError(f"{key} is longer than {MAX_TEXT} characters")
    start, end = _date(get("contract_start"), "contract_start"), _date(get("contract_end"), "contract_end")
    if start and end and end < start:
        raise ValueError(f"contract_end {end} is before contract_start {start}")
    arr_text = get("arr").replace(",", "")
    try:
        arr = float(arr_text) if arr_text else 0.0
    except ValueError:
        raise ValueError(f"arr {get('arr')[:40]!r} is not a number") from None
    if not math.isfinite(arr) or arr < 0:
        raise ValueError(f"arr {get('arr')[:40]!r} must be a number >= 0")
    zone, hours, language = get("timezone") or None, get("hours") or None, get("language").lower() or "zh"
    if zone is not None and not known_zone(zone):
        raise ValueError(f"timezone {zone[:40]!r} is not an IANA time zone (e.g. Asia/Shanghai)")
    if hours is not None and parse_hours(hours) is None:
        raise ValueError(f"hours {hours[:40]!r} must be HH:MM-HH:MM (local time, e.g. 09:00-21:00)")
    if language not in ("zh", "en"):
        raise ValueError(f"language {get('language')[:40]!r} must be zh or en")
    return CustomerRow(cid, name, get("scene").lower(), get("tier"), start, end, arr, get("csm"),
                       zone, hours, _distributor(record), language, _site_hours(record))


def _site_hours(record: dict[str, str]) -> str | None:
    """The optional ``site_hours`` column (issue 13): None when the file has no such column (the
    stored ones are kept), else normalised ``site=HH:MM-HH:MM;...`` ('' = none)."""
    value = record.get("site_hours")
    if value is None:
        return None
    sites = parse_site_hours(value)
    if sites is None:
        raise ValueError(f"site_hours {value.strip()[:60]!r} must be site=HH:MM-HH:MM[;site=HH:MM-HH:MM...] "
                         "(local time, e.g. atrium=10:00-22:00;cinema=12:00-02:00)")
    return ";".join(f"{site}={hours}" for site, hours in sites.items())


def _distributor(record: dict[str, str]) -> str | None:
    """The optional ``distributor`` column (contract section 6): None when the file has no such
    column, so an older export without it leaves the stored distributor alone."""
    value = record.get("distributor")
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ValueError(f"distributor is longer than {MAX_TEXT} characters")
    return value


def parse(text: str) -> Report[CustomerRow]:
    """Rows to upsert and (line, reason) for every bad row.  Raises ValueError for a bad header."""
    return csv_import.parse(text, REQUIRED, ",".join(COLUMNS), _row, lambda row: row.id,
                            lambda row, line, _first: f"id {row.id!r} already on line {line}")


def import_file(path: str, registry: RegistryStore, out, err, now_ms: int | None = None) -> int:
    """Exit status: 0 imported, 1 bad rows (nothing applied), 2 unusable file."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    report = csv_import.load(path, "import-customers", err, parse)
    if isinstance(report, int):
        return report
    if report.errors:
        return csv_import.refuse(path, report, "customers", out, err)
    existing = registry.customer_ids()
    registry.upsert_customers(report.rows, now_ms)
    updated = sum(1 for r in report.rows if r.id in existing)
    print(f"imported {len(report.rows)} customers ({len(report.rows) - updated} new, {updated} updated)", file=out)
    return 0
