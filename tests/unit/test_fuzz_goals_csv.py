"""Fuzzing the success goals CSV import (issue 14): any text gives a report of good rows and
(line, reason) errors, or a ``ValueError`` for a bad header; never another exception.  The rows it
accepts keep the import's promises (a known customer, a known metric, a finite target >= 0 and at
most 100 for a percent, ISO dates with the due date not before the start).

Budget: ``ROBOPULSE_FUZZ_EXAMPLES`` (default 300), see test_fuzz_codec.py."""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.store.goals import COLUMNS, METRICS, PERCENT, known_metric, parse

FUZZ = settings(max_examples=int(os.environ.get("ROBOPULSE_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
KNOWN = {"acme", "kiwi"}

cells = st.one_of(st.sampled_from(["acme", "kiwi", "nobody", *METRICS, "skill:guide", "skill:", "skill:Guide!",
                                   "Conversion", "2026-01-31", "2027-01-31", "2026-02-30", "1,000.5", "-1", "100.5",
                                   "nan", "inf", "1e400", "45", "=cmd()", '"', "a\nb", "\r", "\ufeff", ""]),
                  st.text(max_size=20))


def csv_text():
    header = st.one_of(st.just(",".join(COLUMNS)), st.permutations(COLUMNS).map(",".join),
                       st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), max_size=8).map(",".join))
    row = st.lists(cells, max_size=8).map(lambda cs: ",".join(('"' + c.replace('"', '""') + '"') if i % 2 else c
                                                              for i, c in enumerate(cs)))
    return st.one_of(
        st.tuples(st.sampled_from(["", "\ufeff"]), header, st.lists(row, max_size=8),
                  st.sampled_from(["\n", "\r\n"])).map(lambda t: t[0] + t[3].join([t[1], *t[2]])),
        st.text(max_size=300))


@FUZZ
@given(csv_text())
def test_fuzz_goals_csv_parse_reports_or_refuses_the_header(text):
    try:
        report = parse(text, KNOWN)
    except ValueError as exc:
        assert "header" in str(exc), exc
        return
    assert len({row.identity for row in report.rows}) == len(report.rows)
    for row in report.rows:
        assert row.customer in KNOWN and known_metric(row.metric)
        assert math.isfinite(row.target) and row.target >= 0
        assert row.target <= 100 or row.metric not in PERCENT
        assert len(row.start) == len(row.due) == 10 and row.start <= row.due
    for line, reason in report.errors:
        assert isinstance(line, int) and reason


def test_fuzz_goals_csv_harness_sees_good_rows():
    report = parse("customer,metric,target,start,due\nacme,skill:guide,\"1,000\",2026-01-01,2026-01-01\n", KNOWN)
    assert [(r.customer, r.metric, r.target) for r in report.rows] == [("acme", "skill:guide", 1000.0)]
