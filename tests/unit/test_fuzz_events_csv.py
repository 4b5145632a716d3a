"""Fuzzing the commercial events CSV import (issue 14): any text gives a report of good rows and
(line, reason) errors, or a ``ValueError`` for a bad header; never another exception.  The rows it
accepts keep the import's promises (a known customer, an ISO date, a kind of the contract, a finite
amount >= 0, a renewal's new end after its date, a referral's known referrer).

Budget: ``ROBOPULSE_FUZZ_EXAMPLES`` (default 300), see test_fuzz_codec.py."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from collector.store.events import COLUMNS, KINDS, parse
from tests.support.csv_fuzz import FUZZ, csv_text, report_or_header_refusal

KNOWN = {"acme", "kiwi"}

cells = st.one_of(st.sampled_from(["acme", "kiwi", "nobody", "ACME", *KINDS, "Renewal", "2026-01-31", "2027-01-31",
                                   "2026-13-01", "1,000.5", "-1", "nan", "inf", "1e400", "3", "=cmd()", '"',
                                   "a\nb", "\r", "\ufeff", ""]),
                  st.text(max_size=20))


@FUZZ
@given(csv_text(COLUMNS, cells, 10))
def test_fuzz_events_csv_parse_reports_or_refuses_the_header(text):
    report = report_or_header_refusal(lambda t: parse(t, KNOWN), text)
    if report is None:
        return
    for row in report.rows:
        assert row.customer in KNOWN and row.kind in KINDS and len(row.date) == 10
        assert math.isfinite(row.amount) and row.amount >= 0 and row.robots >= 0
        assert (row.contract_end is not None and row.contract_end > row.date) == (row.kind == "renewal")
        assert (row.referred_by in KNOWN and row.referred_by != row.customer) if row.kind == "referral" \
            else row.referred_by == ""


def test_fuzz_events_csv_harness_sees_good_rows():
    report = parse("customer,date,kind,amount,contract_end\nacme,2026-01-01,renewal,\"1,000\",2027-01-01\n", KNOWN)
    assert [(r.customer, r.amount, r.contract_end) for r in report.rows] == [("acme", 1000.0, "2027-01-01")]
