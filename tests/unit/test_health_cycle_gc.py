"""The health cycle pauses the cyclic GC while it runs, and only then (also when it fails)."""

import gc

import pytest

from collector.health.cycle import gc_paused as _gc_paused


def test_health_cycle_gc_paused_inside_and_restored_after_a_failure():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with _gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("cycle failed")
    assert gc.isenabled()


def test_health_cycle_gc_left_off_when_the_process_had_it_off():
    gc.disable()
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
