"""The confidence bounds robot health judges on, and the hysteresis of a level (pure part)."""

from hypothesis import given
from hypothesis import strategies as st

from collector.health import robot


def test_wilson_bounds_known_values():
    low, high = robot.wilson(1, 20, robot.z_of(0.95))  # 5 %, 20 tasks: 0.9 % to 23.6 %
    assert round(low, 4) == 0.0089 and round(high, 4) == 0.2361
    assert robot.wilson(0, 20, 1.96)[0] == 0.0
    assert abs(robot.wilson(20, 20, 1.96)[1] - 1.0) < 1e-12
    assert robot.wilson(3, 10, 0.0) == (0.3, 0.3)  # confidence 0: the rate as counted


def test_poisson_bounds_near_the_exact_ones():
    z = robot.z_of(0.95)
    # exact chi-square bounds: k=1 -> (0.0253, 5.572); k=10 -> (4.795, 18.39)
    for k, (lo, hi) in ((1, (0.0253, 5.572)), (10, (4.795, 18.39))):
        low, high = robot.poisson(k, z)
        assert abs(high - hi) <= 0.01 * hi
        # the lower bound errs low (conservative) at one event, and is close from a few on
        assert lo / 2 <= low <= lo if k == 1 else abs(low - lo) <= 0.01 * lo
    assert robot.poisson(0, z)[0] == 0.0


@given(st.integers(0, 500), st.integers(1, 500), st.sampled_from([0.0, 0.9, 0.95, 0.99]))
def test_wilson_bounds_surround_the_rate(errors, n, confidence):
    errors = min(errors, n)
    low, high = robot.wilson(errors, n, robot.z_of(confidence))
    assert 0.0 <= low <= errors / n + 1e-12 <= high + 2e-12 <= 1.0 + 2e-12


@given(st.floats(0, 1), st.sampled_from([None, 0, 1, 2]), st.floats(0, 0.5))
def test_hold_is_idempotent_and_enters_at_the_threshold(value, previous, margin):
    level = robot.settle(value, 0.1, 0.3, 1 - margin, previous)
    assert robot.settle(value, 0.1, 0.3, 1 - margin, level) == level
    assert level >= robot._rank(value, 0.1, 0.3)  # a worse level is entered at once
    if previous is not None and level < previous:  # a level is left only past the margin
        assert value < (0.3 if previous == 2 else 0.1) * (1 - margin)


def test_combine_short_view_decides_unless_the_long_view_proves_more():
    assert robot.combine((0.2, 0.5), (0.1, 0.15)) == 0.2      # the short view proves more
    assert robot.combine((0.05, 0.5), (0.35, 0.45)) == 0.35   # the long view, within what the short allows
    assert robot.combine((0.0, 0.1), (0.35, 0.45)) == 0.1     # repaired: the last hour is surely under 0.1
    assert robot.combine(None, (0.3, 0.4)) == 0.3 and robot.combine(None, None) is None

