"""Fuzzing the customers CSV import (issue 17): any text gives a report of good rows and (line,
reason) errors, or a ``ValueError`` for a bad header; never another exception.  The rows it accepts
keep the import's promises (valid id, a name, finite arr >= 0, ISO dates or none).

Budget: ``ROBOPULSE_FUZZ_EXAMPLES`` (default 300), see test_fuzz_codec.py."""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.store.customers import COLUMNS, parse
from protocol.topics import is_valid_id

FUZZ = settings(max_examples=int(os.environ.get("ROBOPULSE_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(st.sampled_from(["acme", "ACME", "a-1", "museum", "2026-01-31", "2026-13-01", "1,000.5", "-1",
                                   "nan", "inf", "=cmd()", "\t=x", '"', '""', "a\nb", "\r", "\ufeff", ""]),
                  st.text(max_size=30))


def csv_text():
    header = st.one_of(st.just(",".join(COLUMNS)),
                       st.permutations(COLUMNS).map(",".join),
                       st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), max_size=10).map(",".join))
    row = st.lists(cells, max_size=10).map(lambda cs: ",".join(('"' + c.replace('"', '""') + '"') if i % 2 else c
                                                               for i, c in enumerate(cs)))
    return st.one_of(
        st.tuples(st.sampled_from(["", "\ufeff"]), header, st.lists(row, max_size=8),
                  st.sampled_from(["\n", "\r\n", "\r"])).map(lambda t: t[0] + t[3].join([t[1], *t[2]])),
        st.text(max_size=300))


@FUZZ
@given(csv_text())
def test_fuzz_customers_csv_parse_reports_or_refuses_the_header(text):
    try:
        report = parse(text)
    except ValueError as exc:
        assert "header" in str(exc), exc
        return
    ids = [row.id for row in report.rows]
    assert len(ids) == len(set(ids))
    for row in report.rows:
        assert is_valid_id(row.id) and row.name
        assert math.isfinite(row.arr) and row.arr >= 0
        for date in (row.contract_start, row.contract_end):
            assert date is None or (len(date) == 10 and date[4] == "-")
    for line, reason in report.errors:
        assert isinstance(line, int) and reason


def test_fuzz_csv_harness_sees_good_rows():
    report = parse("id,name,arr\nacme,Acme,\"1,000\"\n")
    assert [r.id for r in report.rows] == ["acme"] and report.rows[0].arr == 1000.0
