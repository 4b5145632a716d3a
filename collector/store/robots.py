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

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass

from collector.store.records import RobotRow
from collector.store.seam import RegistryStore
from protocol.topics import is_valid_id

REQUIRED = ("robot", "customer", "site", "activated")
COLUMNS = REQUIRED + ("model",)
MAX_TEXT = 200
ID_RULE = "^[a-z0-9][a-z0-9_-]{0,63}$"


@dataclass
class Report:
    rows: list[RobotRow]
    errors: list[tuple[int, str]]


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


def parse(text: str, customers: set[str]) -> Report:
    """The registry rows and (line, reason) for every bad row; ``customers``: the ids that exist.
    Raises ValueError for a header that lacks a required column."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueError(f"header lacks {', '.join(missing)} (expected {','.join(REQUIRED)}[,model])")
    reader.fieldnames = header
    rows: list[RobotRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, tuple[int, str]] = {}
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((reader.line_num, f"unreadable CSV: {exc}"))
            break
        line = reader.line_num
        if not any((v or "").strip() for k, v in record.items() if k is not None and isinstance(v, str)):
            continue  # blank line
        try:
            row = _row(record, customers)
        except ValueError as exc:
            errors.append((line, str(exc)))
            continue
        if row.robot in seen:
            first_line, first_customer = seen[row.robot]
            if first_customer != row.customer:
                errors.append((line, f"robot {row.robot!r} is on line {first_line} with customer "
                                     f"{first_customer!r} and here with {row.customer!r}"))
            else:
                errors.append((line, f"robot {row.robot!r} already on line {first_line}"))
            continue
        seen[row.robot] = (line, row.customer)
        rows.append(row)
    return Report(rows, errors)


def import_file(path: str, registry: RegistryStore, out, err, now_ms: int | None = None) -> int:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except (FileNotFoundError, IsADirectoryError):
        print(f"import-robots: {path} does not exist", file=err)
        return 2
    except UnicodeDecodeError as exc:
        print(f"import-robots: {path} is not UTF-8 (byte {exc.start}); save it as CSV UTF-8", file=err)
        return 2
    try:
        report = parse(text, registry.customer_ids())
    except ValueError as exc:
        print(f"import-robots: {path}: {exc}", file=err)
        return 2
    if report.errors:
        for line, reason in report.errors:
            print(f"{path}:{line}: {reason}", file=err)
        print(f"refused {path}: {len(report.errors)} bad rows; nothing imported", file=out)
        return 1
    new, updated = registry.upsert_robots(report.rows, now_ms)
    print(f"imported {len(report.rows)} robots ({new} new, {updated} updated, "
          f"{len(report.rows) - new - updated} unchanged)", file=out)
    return 0
