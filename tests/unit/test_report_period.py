"""A report's month is the customer's local month (collector/report/period.py): its bounds in UTC,
its local days across a daylight-saving change, and the months refused with their names."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.report.period import ReportError, check_month, last_month, months_between, parse_month

HOUR = 3_600_000


def utc(*args) -> int:
    return int(dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp() * 1000)


def test_report_period_beijing_november_is_16_00_utc_to_16_00_utc():
    m = parse_month("2026-11", "Asia/Shanghai")
    assert (m.from_ms, m.to_ms) == (utc(2026, 10, 31, 16), utc(2026, 11, 30, 16))
    assert m.previous().label == "2026-10" and parse_month("2026-01", "UTC").previous().label == "2025-12"
    days = m.days()
    assert len(days) == 30 and days[0] == ("2026-11-01", utc(2026, 10, 31, 16), utc(2026, 11, 1, 16))


def test_report_period_daylight_saving_month_has_its_real_length():
    march = parse_month("2026-03", "America/New_York")  # clocks forward on 8 March
    assert (march.to_ms - march.from_ms) // HOUR == 31 * 24 - 1
    short = [d for d in march.days() if (d[2] - d[1]) // HOUR != 24]
    assert short == [("2026-03-08", utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))]


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "", "1969-12", "2026-1"])
def test_report_period_malformed_month_is_a_400_naming_it(text):
    with pytest.raises(ReportError) as exc:
        parse_month(text, "Asia/Shanghai")
    assert exc.value.status == 400 and repr(text) in exc.value.message


def test_report_period_refuses_a_month_not_begun_and_one_before_the_first_data():
    now = utc(2026, 11, 30, 17)  # 1 December 01:00 in Beijing, still November in UTC
    check_month(parse_month("2026-12", "Asia/Shanghai"), now, utc(2026, 1, 1), "acme")  # begun there
    with pytest.raises(ReportError) as future:
        check_month(parse_month("2026-12", "UTC"), now, utc(2026, 1, 1), "acme")
    assert future.value.status == 400 and "2026-12 has not begun yet" in future.value.message
    with pytest.raises(ReportError) as early:
        check_month(parse_month("2025-12", "Asia/Shanghai"), now, utc(2026, 1, 1), "acme")
    assert early.value.status == 404 and "2025-12 is before customer acme's first data (2026-01)" in early.value.message
    with pytest.raises(ReportError) as none:
        check_month(parse_month("2026-11", "Asia/Shanghai"), now, None, "acme")
    assert none.value.status == 404 and "no data yet" in none.value.message


def test_report_period_months_and_last_month():
    assert months_between(utc(2025, 11, 20), utc(2026, 2, 1), "UTC") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert last_month(utc(2026, 1, 10), "Asia/Shanghai") == "2025-12"
    assert last_month(utc(2026, 11, 30, 17), "Asia/Shanghai") == "2026-11"
