"""The goal rules of collector/health/goals.py on hand-made daily series (no I/O): the status table
of docs/api.md, the projection's bounds, and the venue's open hours."""

from __future__ import annotations

import datetime as dt

import pytest

from collector.health.goals import complete_days, first_ms, judge, open_hours

GOAL = {"id": 1, "customer": "c", "metric": "interactions_per_robot_day", "target": 100.0,
        "start": "2026-01-01", "due": "2026-01-31", "note": ""}


def _judge(values, today="2026-01-21", **kw):
    goal = {**GOAL, **kw}
    return judge(goal, [(v, 1.0) if v is not None else (0.0, 0.0) for v in values], dt.date.fromisoformat(today))


def test_health_goals_level_is_a_ratio_of_sums_over_the_last_seven_days():
    goal = judge(GOAL, [(100.0, 1.0)] * 3 + [(60.0, 2.0)] * 7, dt.date(2026, 1, 11))
    assert goal["progress"] == 30.0 and goal["window_days"] == 7


@pytest.mark.parametrize("values, today, status, reason", [
    ([], "2026-01-01", "on_track", "not_started"),
    ([10, 10], "2026-01-03", "on_track", "too_early"),
    ([120] * 5, "2026-01-06", "achieved", "at_target"),
    ([50 + 3 * d for d in range(10)], "2026-01-11", "on_track", "projected_to_reach"),
    ([50] * 10, "2026-01-11", "at_risk", "projected_short"),
    ([None] * 5, "2026-01-06", "at_risk", "no_data"),
    ([100] * 31, "2026-02-05", "achieved", "reached_by_due"),
    ([99] * 31, "2026-02-05", "missed", "not_reached_by_due"),
])
def test_health_goals_status_table(values, today, status, reason):
    goal = _judge(values, today)
    assert (goal["status"], goal["reason"]) == (status, reason)


def test_health_goals_projection_is_bounded():
    rising = _judge([10 * d for d in range(10)], "2026-01-11", metric="conversion", target=40.0)
    assert rising["projection"] == 100.0          # a percent never projects above 100
    falling = _judge([90 - 10 * d for d in range(10)], "2026-01-11")
    assert falling["projection"] == 0.0           # nor below 0
    far = _judge([50 + d for d in range(10)], "2026-01-11", due="2026-12-31")
    assert far["projection"] == pytest.approx(far["progress"] + 30 * far["trend_per_day"], abs=0.01)


def test_health_goals_complete_days_stop_at_yesterday_and_the_due_date():
    assert complete_days(GOAL, dt.date(2026, 1, 1)) == 0
    assert complete_days(GOAL, dt.date(2026, 1, 11)) == 10
    assert complete_days(GOAL, dt.date(2026, 3, 1)) == 31


def test_health_goals_first_ms_is_the_local_midnight():
    assert first_ms("2026-01-01", 8 * 3_600_000) == 1_767_225_600_000 - 8 * 3_600_000
    assert first_ms("2026-01-01", -8 * 3_600_000) == 1_767_225_600_000 + 8 * 3_600_000


def test_health_goals_open_hours_from_imported_learned_or_none():
    assert open_hours("09:00-17:00") == list(range(9, 17))
    assert open_hours("18:00-02:00") == [0, 1, 18, 19, 20, 21, 22, 23]
    assert open_hours("00:00-24:00") is None
    assert open_hours(None, [10, 11, 12]) == [10, 11, 12]
    assert open_hours(None, None, "learned: 09:00-12:00, 22:00-01:00") == [0, 9, 10, 11, 22, 23]
    assert open_hours(None, None, "always open") is None


def test_health_goals_dashboard_names_every_metric_status_and_reason():
    """The customer page shows a goal's metric, status and reason from the catalogue, in both languages."""
    import json
    from pathlib import Path

    from collector.dashboard.routes import STATIC
    from collector.health.goals import REASONS, STATUSES
    from collector.store.goals import METRICS

    messages = json.loads((Path(STATIC) / "messages.json").read_text(encoding="utf-8"))["messages"]
    for lang in ("en", "zh-CN"):
        keys = set(messages[lang])
        assert {f"goal.metric.{m}" for m in METRICS} | {"goal.metric.skill"} <= keys
        assert {f"goal.status.{s}" for s in STATUSES} <= keys
        assert {f"goal.reason.{r}" for r in REASONS} <= keys


def test_health_goals_store_default_active_day_is_healths():
    """A caller of ``ReadStore.goal_series`` that passes no floor (the monthly report) counts an
    active day as the health cycle does by default."""
    from collector.health.settings import defaults
    from collector.store.seam import DEFAULT_ACTIVE_FLOOR

    assert DEFAULT_ACTIVE_FLOOR == defaults().active_day_interactions
