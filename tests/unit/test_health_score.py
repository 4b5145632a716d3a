"""Must-show 5 (pure part): the breakdown adds up to the score; peers are the same scene only."""

from hypothesis import given
from hypothesis import strategies as st

from collector.health import customer
from collector.health.settings import MEASURES, defaults, parse

scores = st.floats(min_value=0, max_value=100, allow_nan=False)
weights = st.floats(min_value=0, max_value=1000, allow_nan=False)


@given(st.fixed_dictionaries({m: scores for m in MEASURES}), st.fixed_dictionaries({m: weights for m in MEASURES}))
def test_score_breakdown_adds_up_to_the_score(values, w):
    if sum(w.values()) <= 0:
        w = {m: 1.0 for m in MEASURES}
    s = parse({f"weight_{m}": w[m] for m in MEASURES})
    value, breakdown = customer.score({m: (values[m], "fact") for m in MEASURES}, s)
    assert round(sum(b["points"] for b in breakdown), 6) == value
    exact = sum(w[m] * values[m] for m in MEASURES) / sum(w.values())
    assert abs(value - exact) <= 0.05 + 1e-9
    assert 0 <= value <= 100
    assert [b["measure"] for b in breakdown] == list(MEASURES)


def test_score_breakdown_carries_weight_and_fact():
    value, breakdown = customer.score({m: (50.0, f"because {m}") for m in MEASURES}, defaults())
    assert value == 50.0
    assert {b["fact"] for b in breakdown} == {f"because {m}" for m in MEASURES}
    assert sum(b["weight"] for b in breakdown) == 90.0   # the contract's 10 left the score (issue 13)


def test_peer_percentiles_only_within_the_scene():
    values = {"m1": ("museum", 10.0), "m2": ("museum", 20.0), "m3": ("museum", 30.0),
              "k1": ("ktv", 1.0), "k2": ("ktv", 500.0)}
    peers = customer.peer_percentiles(values)
    assert peers["m1"] == {"scene": "museum", "peers": 2, "percentile": 0.0}
    assert peers["m3"]["percentile"] == 100.0
    assert peers["k2"] == {"scene": "ktv", "peers": 1, "percentile": 100.0}
    # another scene's customers change nothing
    assert customer.peer_percentiles({k: v for k, v in values.items() if k[0] == "m"})["m2"] == peers["m2"]


def test_peer_percentiles_ties_count_half_and_alone_has_none():
    peers = customer.peer_percentiles({"a": ("bank", 5.0), "b": ("bank", 5.0), "c": ("mall", 1.0)})
    assert peers["a"]["percentile"] == 50.0
    assert peers["c"]["percentile"] is None


def test_color_bands_and_trend_arrow():
    s = defaults()
    assert [customer.color(v, s) for v in (70.0, 69.9, 40.0, 39.9)] == ["green", "yellow", "yellow", "red"]
    assert [customer.trend(60.0, w, s) for w in (55.0, 55.1, 65.0, None)] == ["up", "flat", "down", "flat"]


def test_color_holds_within_its_margin():
    s = defaults()  # green 70, yellow 40, margin 2
    assert [customer.color(v, s, "green") for v in (68.0, 67.9)] == ["green", "yellow"]
    assert [customer.color(v, s, "yellow") for v in (71.9, 72.0, 38.0, 37.9)] == ["yellow", "green", "yellow", "red"]
    assert [customer.color(v, s, "red") for v in (41.9, 42.0, 90.0)] == ["red", "yellow", "green"]


def test_usual_level_is_the_median_of_the_same_weekdays():
    from collector.health import peers
    days = [100] * 21 + [300] * 7 + [100] * 7   # a holiday week just before the last one
    assert peers.usual_level(days) == (700.0, 700)
    days = [0] * 21 + [50] * 14                  # a customer in use for two weeks only
    assert peers.usual_level(days) == (350.0, 350)
    assert peers.usual_level([0] * 28 + [40] * 7) == (None, 0)  # nothing before: no usual level


def test_peer_compare_median_of_the_others_and_ranks_only_from_enough_peers():
    from collector.health import peers
    s = parse({"percentile_min_peers": 3})
    out = peers.compare({"a": ("bank", 10.0, 100.0), "b": ("bank", 40.0, 100.0), "c": ("bank", 60.0, 100.0),
                         "d": ("mall", 5.0, 100.0)}, s)
    assert (out["a"]["median"], out["a"]["ratio"], out["a"]["percentile"]) == (50.0, 0.2, None)
    assert out["d"]["ratio"] is None and out["d"]["peers"] == 0
    out = peers.compare({c: ("bank", v, 30.0) for c, v in zip("abcd", (10.0, 20.0, 30.0, 40.0))}, s)
    assert out["a"]["percentile"] == 0.0 and out["d"]["at_benchmark"] and not out["a"]["at_benchmark"]
