"""One customer's report for one local month, from the store: read, check, compute.

Why one function: the API, the dashboard's page and the CLI must refuse the same months and show
the same figures.  ``report`` raises ``period.ReportError`` (400 / 404) with a sentence naming the
month; a month with no data gives a report that says so (``has_data`` false), not one of zeros."""

from __future__ import annotations

from collector.report import figures
from collector.report.period import ReportError, check_month, parse_month
from collector.store.seam import ReadStore


def goals_of(reads: ReadStore, customer: str, month) -> dict | None:
    """The customer's goals with their progress, when the store has a goals part (issue 14's
    goals); None otherwise (the report then says it has no goals)."""
    read = getattr(reads, "list_goals", None)
    if read is None:
        return None
    return {"available": True, "items": list(read(customer))}


def report(reads: ReadStore, customer: str, month_text: str, now_ms: int, health) -> dict:
    """The report's figures (see figures.build); ``health``: the ``[health]`` settings (its
    thresholds, benchmark and default time zone)."""
    row, first = reads.report_customer(customer)
    if row is None:
        raise ReportError(404, f"no customer {customer}")
    zone = row.get("timezone") or health.timezone
    month = parse_month(month_text, zone)
    check_month(month, now_ms, first, customer)
    inputs = reads.report_inputs(customer, month.from_ms, month.to_ms, month.previous().from_ms)
    return figures.build(inputs, month, now_ms, health, goals_of(reads, customer, month))
