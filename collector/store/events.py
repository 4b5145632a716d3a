"""Commercial events (issue 14, contract section 6): ``import-events`` and the API's POST.

Header ``customer,date,kind,amount,robots,referred_by,contract_end,note`` (any order, extra
columns ignored).  Kinds: ``renewal`` (``amount`` = renewed ARR, ``contract_end`` = the new end),
``expansion`` (``amount`` = added ARR, ``robots`` = robots added), ``churn`` (not renewed) and
``referral`` (the customer was signed through ``referred_by``, a known customer; ``amount`` = its
signed ARR).

Unlike ``import-customers``, a file with one bad row is refused whole (contract section 6): the
events move contract ends and feed the outcome rates, and half a file applied would leave figures
nobody can reconcile with the spreadsheet.  An event's identity is ``(customer, date, kind, amount,
referred_by)``: a row whose identity is stored already is skipped, so importing a file again changes
nothing.  The same identity twice in one file is a bad row (it would be counted once, silently).
"""

from __future__ import annotations

import datetime as dt
import getpass
import math
import time
from collections.abc import Mapping

from collector.store import csv_import
from collector.store.csv_import import Report
from collector.store.records import EventRow
from collector.store.seam import RegistryStore

KINDS = ("renewal", "expansion", "churn", "referral")
COLUMNS = ("customer", "date", "kind", "amount", "robots", "referred_by", "contract_end", "note")
REQUIRED = ("customer", "date", "kind")
#: kinds whose ``amount`` must be given (a churn's may be empty)
NEEDS_AMOUNT = ("renewal", "expansion", "referral")
MAX_NOTE = 500
MAX_AMOUNT = 1e12
MAX_ROBOTS = 1_000_000


def _date(value: str, column: str) -> str:
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValueError(f"{column} {value[:40]!r} is not a date YYYY-MM-DD")


def _amount(text: str) -> float:
    clean = text.replace(",", "")
    try:
        value = float(clean)
    except ValueError:
        raise ValueError(f"amount {text[:40]!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"amount {text[:40]!r} must be a number >= 0")
    return round(value, 2)


def _robots(text: str) -> int:
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ROBOTS:
        raise ValueError(f"robots {text[:40]!r} must be a whole number >= 0")
    return int(text)


def event_from(record: Mapping[str, str | None], known: set[str]) -> EventRow:
    """One event from a row of text cells (a CSV row, or the API's body as strings); ``known`` are
    the customer ids in the store.  Raises ValueError with the reason."""
    get = lambda key: (record.get(key) or "").strip()  # noqa: E731
    customer = csv_import.stored_customer(get("customer"), known)
    if not get("date"):
        raise ValueError("date is empty")
    date = _date(get("date"), "date")
    kind = get("kind").lower()
    if kind not in KINDS:
        raise ValueError(f"kind {get('kind')[:40]!r} must be one of {', '.join(KINDS)}")
    if not get("amount") and kind in NEEDS_AMOUNT:
        raise ValueError(f"amount is empty (a {kind} needs its ARR)")
    amount = _amount(get("amount")) if get("amount") else 0.0
    robots = _robots(get("robots"))
    referred_by = get("referred_by")
    if kind == "referral":
        if not referred_by:
            raise ValueError("referred_by is empty (a referral names the customer who referred it)")
        if referred_by not in known:
            raise ValueError(f"referred_by: unknown customer {referred_by[:40]!r}")
        if referred_by == customer:
            raise ValueError("referred_by is the customer itself")
    elif referred_by:
        raise ValueError(f"referred_by is only for a referral, not a {kind}")
    contract_end = None
    if kind == "renewal":
        if not get("contract_end"):
            raise ValueError("contract_end is empty (a renewal gives the new end)")
        contract_end = _date(get("contract_end"), "contract_end")
        if contract_end <= date:
            raise ValueError(f"contract_end {contract_end} is not after the renewal's date {date}")
    elif get("contract_end"):
        raise ValueError(f"contract_end is only for a renewal, not a {kind}")
    note = get("note")
    if len(note) > MAX_NOTE:
        raise ValueError(f"note is longer than {MAX_NOTE} characters")
    return EventRow(customer, date, kind, amount, robots, referred_by, contract_end, note)


def parse(text: str, known: set[str]) -> Report[EventRow]:
    """Events and (line, reason) for every bad row.  Raises ValueError for a bad header."""
    return csv_import.parse(text, REQUIRED, ",".join(COLUMNS), lambda record: event_from(record, known),
                            lambda row: row.identity,
                            lambda _row, line, _first: f"the same event as line {line} "
                                                       "(customer, date, kind, amount, referred_by)")


def default_actor() -> str:
    """Who imports when ``--by`` is not given: the OS user running the command."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no user name in the environment (a bare container)
        return "unknown"


def import_file(path: str, registry: RegistryStore, out, err, actor: str | None = None,
                now_ms: int | None = None) -> int:
    """Exit status: 0 imported (or nothing new), 1 bad rows (nothing applied), 2 unusable file."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    actor = actor or default_actor()
    report = csv_import.checked(path, "import-events", "events", out, err,
                                lambda text: parse(text, registry.customer_ids()))
    if isinstance(report, int):
        return report
    added = registry.add_events(report.rows, actor, "import", now_ms)
    print(f"imported {len(report.rows)} events ({len(added)} new, {len(report.rows) - len(added)} "
          f"already stored) as {actor}", file=out)
    return 0
