"""What the fuzz tests of the customer-scoped CSV imports (events, goals) share: the budget, a
generator of CSV-like text around an import's columns, and the promise every import keeps whatever
the text: a report of good rows and ``(line, reason)`` errors, or a ``ValueError`` for the header.

What the rows an import accepts must satisfy stays in each test: that is what differs."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: budget: ``ROBOPULSE_FUZZ_EXAMPLES`` (default 300), see test_fuzz_codec.py
FUZZ = settings(max_examples=int(os.environ.get("ROBOPULSE_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def csv_text(columns: Sequence[str], cells: st.SearchStrategy[str], width: int):
    """A header (the columns, shuffled, or junk) and up to 8 rows of up to ``width`` cells (every
    other one quoted), with or without a BOM, LF or CRLF; or any text at all."""
    header = st.one_of(st.just(",".join(columns)), st.permutations(columns).map(",".join),
                       st.lists(st.one_of(st.sampled_from(columns), st.text(max_size=8)), max_size=width).map(",".join))
    row = st.lists(cells, max_size=width).map(lambda cs: ",".join(('"' + c.replace('"', '""') + '"') if i % 2 else c
                                                                  for i, c in enumerate(cs)))
    return st.one_of(
        st.tuples(st.sampled_from(["", "\ufeff"]), header, st.lists(row, max_size=8),
                  st.sampled_from(["\n", "\r\n"])).map(lambda t: t[0] + t[3].join([t[1], *t[2]])),
        st.text(max_size=300))


def report_or_header_refusal(parse: Callable, text: str):
    """``parse(text)``'s report after checking its shape (rows with distinct identities, every
    error a line and a reason), or None when it refused the header (the one ValueError allowed)."""
    try:
        report = parse(text)
    except ValueError as exc:
        assert "header" in str(exc), exc
        return None
    assert len({row.identity for row in report.rows}) == len(report.rows)
    for line, reason in report.errors:
        assert isinstance(line, int) and reason
    return report
