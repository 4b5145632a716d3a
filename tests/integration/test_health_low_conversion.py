"""Issue 14: ``low_conversion`` fires for a customer well under its scene's median conversion, and
not by chance: not under its minimum volume, not without enough peers, not when only a little
under.  Real SQLite, rollups written the way the store writes them, the real evaluation cycle."""

from __future__ import annotations

import pytest

from tests.plugins.health import DAY, T, alerts_of, daily, evaluate, make_settings

NOW = T + 4 * 3_600_000  # 2026-01-01 12:00 Beijing: the 30 days are 2 to 31 December


def museum(store, fleet, cid: str, foot: int, interactions: int, robots: int = 1, scene: str = "museum") -> None:
    """A customer whose robots each see ``foot`` people and have ``interactions`` a day for 30 days."""
    for rid in fleet(cid, robots, scene=scene, first_seen=T - 40 * DAY):
        daily(store, rid, T - 30 * DAY, 30, {"usage.foot_traffic": foot, "usage.solicitations": foot // 2,
                                             "usage.wakeups": foot // 3, "usage.interactions": interactions})


def peers(store, fleet, n: int = 4) -> None:
    """``n`` museum customers converting 25 %, 24 %, 26 %, 25 % ... of 200 people a day."""
    for i in range(n):
        museum(store, fleet, f"peer{i}", 200, (50, 48, 52, 50)[i % 4])


def firing(store) -> list[dict]:
    return [a for a in alerts_of(store, "low_conversion") if a["state"] == "firing"]


def test_rules_low_conversion_fires_well_under_the_scene_median(store, fleet):
    peers(store, fleet)
    museum(store, fleet, "weak", 300, 24, robots=2)        # 8 % against a median of 25 %: 0.32
    museum(store, fleet, "other-scene", 300, 3, scene="ktv")  # 1 %, but alone in its scene
    evaluate(store, NOW, make_settings())
    (alert,) = firing(store)
    assert (alert["subject"], alert["severity"]) == ("weak", "warning")
    assert alert["summary"] == ("weak: conversion 8.0% (interactions / foot traffic, 30 days) is 0.32 of the "
                                "museum-scene median 25.0% of 4 peers")
    (facts,) = [f for (f,) in store.execute("SELECT facts FROM alerts WHERE rule = 'low_conversion'")]
    assert '"ratio": 0.32' in facts and '"median_conversion": 25.0' in facts


@pytest.mark.parametrize("foot, interactions, n_peers, why", [
    (15, 1, 4, "under min_volume: 15 people per robot per day (20)"),
    (300, 24, 2, "only 2 peers (min_peers 3)"),
    (300, 48, 4, "16 % against 25 %: 0.64, above the 0.5 threshold"),
])
def test_rules_low_conversion_silent_by_chance(store, fleet, foot, interactions, n_peers, why):
    peers(store, fleet, n_peers)
    museum(store, fleet, "weak", foot, interactions)
    evaluate(store, NOW, make_settings())
    assert firing(store) == [], why


def test_rules_low_conversion_peers_under_min_volume_are_no_peers(store, fleet):
    """Three quiet museums converting 50 % do not make the median: with them left out, 'weak' has
    one peer only and is not judged."""
    museum(store, fleet, "busy", 200, 60)
    for i in range(3):
        museum(store, fleet, f"quiet{i}", 10, 5)
    museum(store, fleet, "weak", 300, 24)
    evaluate(store, NOW, make_settings())
    assert firing(store) == []
    evaluate(store, NOW + 60_000, make_settings(alerts={"low_conversion": {"min_volume": 5.0}}))
    assert [a["subject"] for a in firing(store)] == ["weak"]


def test_rules_low_conversion_resolves_after_a_day_above_clear(store, fleet):
    peers(store, fleet)
    museum(store, fleet, "weak", 300, 24, robots=1)
    settings = make_settings()
    evaluate(store, NOW, settings)
    assert [a["subject"] for a in firing(store)] == ["weak"]
    # the robot's interactions rise to 20 % of its foot traffic over the same 30 days: 0.8 of the median
    daily(store, "weak-r0", T - 30 * DAY, 30, {"usage.interactions": 36})
    evaluate(store, NOW + 60_000, settings)
    assert [a["subject"] for a in firing(store)] == ["weak"]           # clearing must hold a day
    evaluate(store, NOW + 60_000 + DAY, settings)
    assert firing(store) == [] and alerts_of(store, "low_conversion")[0]["state"] == "resolved"
