"""protocol.logs.FailureLog: a repeating failure is one line per cause (and a reminder a minute),
not one per attempt, and its end is logged once."""

from __future__ import annotations

from protocol.logs import FailureLog


class Lines:
    def __init__(self):
        self.lines = []

    def error(self, event, **fields):
        self.lines.append(("error", event, fields))

    def info(self, event, **fields):
        self.lines.append(("info", event, fields))


def test_failure_log_logs_first_failure_changes_and_reminders_only():
    now = [0.0]
    out = Lines()
    flog = FailureLog(out, "store_commit_failing", every_s=60, clock=lambda: now[0])
    for _ in range(10):
        flog.failed("SQLITE_FULL: database or disk is full")
        now[0] += 1
    assert [e for _, e, _ in out.lines] == ["store_commit_failing"]
    flog.failed("SQLITE_IOERR: disk I/O error")  # a new cause: logged at once
    now[0] += 61
    flog.failed("SQLITE_IOERR: disk I/O error")  # a minute on: a reminder with the count
    assert len(out.lines) == 3 and out.lines[2][2]["failures"] == 12
    assert flog.failing and flog.error == "SQLITE_IOERR: disk I/O error"


def test_failure_log_recovery_logged_once_and_resets():
    now = [0.0]
    out = Lines()
    flog = FailureLog(out, "x_failed", clock=lambda: now[0])
    flog.recovered("x_recovered")  # not failing: nothing
    assert out.lines == []
    flog.failed("boom")
    now[0] = 5
    flog.recovered("x_recovered")
    flog.recovered("x_recovered")
    assert [(lvl, e) for lvl, e, _ in out.lines] == [("error", "x_failed"), ("info", "x_recovered")]
    assert out.lines[1][2]["failed_for_s"] == 5 and out.lines[1][2]["failures"] == 1
    assert not flog.failing
    flog.failed("boom")  # failing again: logged again
    assert len(out.lines) == 3
