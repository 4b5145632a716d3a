"""A robot reporting more errors than tasks (several error counters of one subsystem for one failed
task, or counters out of step) must not stop the health cycle: sqrt of a negative raised
ValueError in the Wilson bound, every cycle, so no alert fired for any customer (seen with the
simulator's lidar_failing robot, whose three nav error counters sum past its tasks)."""

from collector.health.robot import wilson


def test_wilson_bound_of_a_rate_above_one_reads_as_one():
    low, high = wilson(126, 103, 1.64)
    assert (low, high) == wilson(103, 103, 1.64)
    assert 0.9 < low < high <= 1.0


def test_wilson_bound_of_an_ordinary_rate_is_unchanged():
    low, high = wilson(30, 526, 1.64)
    assert 0.0 < low < 30 / 526 < high < 1.0
