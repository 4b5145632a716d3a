"""Fuzzing the success goals CSV import (issue 14): any text gives a report of good rows and
(line, reason) errors, or a ``ValueError`` for a bad header; never another exception.  The rows it
accepts keep the import's promises (a known customer, a known metric, a finite target >= 0 and at
most 100 for a percent, ISO dates with the due date not before the start).

Budget: ``ROBOPULSE_FUZZ_EXAMPLES`` (default 300), see test_fuzz_codec.py."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from collector.store.goals import COLUMNS, METRICS, PERCENT, known_metric, parse
from tests.support.csv_fuzz import FUZZ, csv_text, report_or_header_refusal

KNOWN = {"acme", "kiwi"}

cells = st.one_of(st.sampled_from(["acme", "kiwi", "nobody", *METRICS, "skill:guide", "skill:", "skill:Guide!",
                                   "Conversion", "2026-01-31", "2027-01-31", "2026-02-30", "1,000.5", "-1", "100.5",
                                   "nan", "inf", "1e400", "45", "=cmd()", '"', "a\nb", "\r", "\ufeff", ""]),
                  st.text(max_size=20))


@FUZZ
@given(csv_text(COLUMNS, cells, 8))
def test_fuzz_goals_csv_parse_reports_or_refuses_the_header(text):
    report = report_or_header_refusal(lambda t: parse(t, KNOWN), text)
    if report is None:
        return
    for row in report.rows:
        assert row.customer in KNOWN and known_metric(row.metric)
        assert math.isfinite(row.target) and row.target >= 0
        assert row.target <= 100 or row.metric not in PERCENT
        assert len(row.start) == len(row.due) == 10 and row.start <= row.due


def test_fuzz_goals_csv_harness_sees_good_rows():
    report = parse("customer,metric,target,start,due\nacme,skill:guide,\"1,000\",2026-01-01,2026-01-01\n", KNOWN)
    assert [(r.customer, r.metric, r.target) for r in report.rows] == [("acme", "skill:guide", 1000.0)]
