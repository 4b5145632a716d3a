"""The pure parts of the HTTP limits: the log throttle's counting and the cap fitted to the
open-file limit."""

from collector.http.listener import FD_RESERVE, fitted_cap
from collector.http.throttle import Throttle


def test_http_throttle_lets_one_through_per_interval_with_the_count():
    now = [100.0]
    throttle = Throttle(10.0, clock=lambda: now[0])
    assert throttle.ready("emfile") == 1
    assert [throttle.ready("emfile") for _ in range(500)] == [0] * 500
    assert throttle.ready("other") == 1            # keys are counted apart
    now[0] += 10.0
    assert throttle.ready("emfile") == 501         # the 500 held back, plus this one


def test_http_fitted_cap_leaves_room_under_the_file_limit():
    assert fitted_cap(1000, fd_limit=400) == 400 - FD_RESERVE
    assert fitted_cap(100, fd_limit=65536) == 100
    assert fitted_cap(0, fd_limit=1024) == 1024 - FD_RESERVE
    assert fitted_cap(1000, fd_limit=10) == 1
