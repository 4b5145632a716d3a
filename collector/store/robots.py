"""``import-robots``: load the asset registry (which robot belongs to which customer and site, the
local date it was handed over, its model) from the CS team's CSV export.

UTF-8 with or without a BOM.  Header ``robot,customer,site,activated`` (any order), optional
``model``; extra columns are ignored.  Unlike ``import-customers`` a file with any bad row is
refused whole (contract section 6): the registry decides which robots may send telemetry under
which customer (``[ingest] enroll = "registry"``) and which broker account may publish where
(``broker-acl``), so half a file applied would lock out or misplace robots.  Every bad line is
reported (``FILE:LINE: reason``) and nothing is written.  Rows equal to the stored ones are left
alone, so importing the same file twice changes nothing.  Exit status: 0 imported, 1 refused for
bad rows, 2 the file itself is unusable (missing, not UTF-8, header lacks a column).
"""

from __future__ import annotations

import datetime as dt
import time

from collector.store import csv_import
from collector.store.csv_import import Report
from collector.store.records import RobotRow
from collector.store.seam import RegistryStore
from protocol.topics import is_valid_id

REQUIRED = ("robot", "customer", "site", "activated")
COLUMNS = REQUIRED + ("model",)
MAX_TEXT = 200
ID_RULE = "^[a-z0-9][a-z0-9_-]{0,63}$"


def _row(record: dict[str, str], customers: set[str]) -> RobotRow:
    get = lambda key: (record.get(key) or "").strip()  # noqa: E731
    for key in ("robot", "customer", "site"):
        value = get(key)
        if not value:
            raise ValueError(f"{key} is empty")
        if not is_valid_id(value):
            raise ValueError(f"{key} {value[:40]!r} must match {ID_RULE}")
    if get("customer") not in customers:
        raise ValueError(f"customer {get('customer')!r} is unknown (import it with import-customers first)")
    activated = get("activated") or None
    if activated is not None:
        try:
            if len(activated) != 10:
                raise ValueError
            activated = dt.date.fromisoformat(activated).isoformat()
        except ValueError:
            raise ValueError(f"activated {activated[:40]!r} is not a date YYYY-MM-DD") from None
    model = get("model")
    if len(model) > MAX_TEXT:
        raise ValueError(f"model is longer than {MAX_TEXT} characters")
    return RobotRow(get("robot"), get("customer"), get("site"), activated, model)


def _duplicate(row: RobotRow, line: int, first: RobotRow) -> str:
    if first.customer != row.customer:
        return (f"robot {row.robot!r} is on line {line} with customer {first.customer!r} and here with "
                f"{row.customer!r}")
    return f"robot {row.robot!r} already on line {line}"


def parse(text: str, customers: set[str]) -> Report[RobotRow]:
    """The registry rows and (line, reason) for every bad row; ``customers``: the ids that exist.
    Raises ValueError for a header that lacks a required column."""
    return csv_import.parse(text, REQUIRED, f"{','.join(REQUIRED)}[,model]",
                            lambda record: _row(record, customers), lambda row: row.robot, _duplicate)


def import_file(path: str, registry: RegistryStore, out, err, now_ms: int | None = None) -> int:
    """Exit status: 0 imported, 1 bad rows (nothing applied), 2 unusable file."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    report = csv_import.load(path, "import-robots", err, lambda text: parse(text, registry.customer_ids()))
    if isinstance(report, int):
        return report
    if report.errors:
        return csv_import.refuse(path, report, "robots", out, err)
    new, updated = registry.upsert_robots(report.rows, now_ms)
    print(f"imported {len(report.rows)} robots ({new} new, {updated} updated, "
          f"{len(report.rows) - new - updated} unchanged)", file=out)
    return 0
