"""A robot's reported state: online, offline (reported), stale (silent for 3 intervals)."""

from collector.health.robot import robot_state
from collector.health.settings import defaults

NOW = 1_764_000_000_000


def _robot(**kw):
    return {"state": "online", "interval_s": 10, "first_seen_ms": NOW - 10_000, "last_window_ms": None, **kw}


def test_robot_state_just_booted_robot_without_a_window_is_not_stale():
    assert robot_state(_robot(), NOW, defaults()) == "online"


def test_robot_state_robot_silent_since_first_seen_becomes_stale():
    assert robot_state(_robot(first_seen_ms=NOW - 3_600_000), NOW, defaults()) == "stale"


def test_robot_state_reported_offline_is_offline_not_stale():
    assert robot_state(_robot(state="offline", last_window_ms=NOW - 86_400_000), NOW, defaults()) == "offline"
