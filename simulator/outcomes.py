"""The scenario's success goals and commercial events (issue 14) as the CSV files the collector's
``import-goals`` and ``import-events`` read (contract section 6), so ``robopulse demo`` shows goals
and outcomes for its fleet.

A scenario lists them as ``[[goals]]`` (``customer, metric, target, start, due, note``) and
``[[events]]`` (``customer, date, kind, amount, robots, referred_by, contract_end, note``); a date
may be an offset from the live start (``-28d``, ``+30d``) like every other time of a scenario, and
is written as the UTC date of that instant, as contract dates are.  The rows are checked by the
collector's import itself (a bad one refuses the file), not here: one set of rules.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from protocol.config import ConfigError

GOAL_COLUMNS = ("customer", "metric", "target", "start", "due", "note")
EVENT_COLUMNS = ("customer", "date", "kind", "amount", "robots", "referred_by", "contract_end", "note")
#: the columns holding a date (an offset from the live start is resolved)
DATE_COLUMNS = ("start", "due", "date", "contract_end")


def rows(raw: Any, key: str, columns: tuple[str, ...], live_ms: int, customers: set[str]) -> tuple[dict, ...]:
    """The ``[[goals]]`` or ``[[events]]`` tables: known columns only, a known customer, dates resolved."""
    from simulator.scenario import parse_time, to_date

    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(key, "must be an array of tables")
    out = []
    for i, table in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(table, dict):
            raise ConfigError(where, "must be a table")
        unknown = set(table) - set(columns)
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]}", "unknown key")
        if table.get("customer") not in customers:
            raise ConfigError(f"{where}.customer", f"{table.get('customer')!r} is not a customer of the scenario")
        row = {c: table.get(c, "") for c in columns}
        for c in DATE_COLUMNS:
            if c in row and row[c] != "":
                row[c] = to_date(parse_time(row[c], f"{where}.{c}", live_ms))
        out.append(row)
    return tuple(out)


def to_csv(items: tuple[dict, ...], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in items:
        writer.writerow([row[c] for c in columns])
    return out.getvalue()


def goals_csv(scenario) -> str:
    return to_csv(scenario.goals, GOAL_COLUMNS)


def events_csv(scenario) -> str:
    return to_csv(scenario.events, EVENT_COLUMNS)
