"""The outbox and the core on real SQLite files: seq, stream, drop-oldest accounting, crash safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from agent.config import build_config
from agent.core import AgentCore
from agent.outbox import Outbox, read_summary
from agent.samplers import Sample
from protocol.codec import ProtocolError


def make_config(tmp_path, **agent):
    return build_config({"agent": {"robot_id": "r-1", "customer_id": "acme", "interval_s": 10,
                                   "state_dir": str(tmp_path), **agent}, "buffer": {"max_windows": 5}})


def test_outbox_seq_and_stream_survive_reopen(tmp_path):
    box = Outbox(tmp_path / "o.db", 100)
    stream = box.stream
    assert len(stream) == 16 and int(stream, 16) >= 0
    assert [box.append(i, i + 1, {"a.b": i}, {}).seq for i in range(3)] == [1, 2, 3]
    box.delete_range(1, 2)
    box.close()
    box = Outbox(tmp_path / "o.db", 100)
    assert box.stream == stream and len(box) == 1
    assert box.append(10, 11, {}, {}).seq == 4
    assert [w.seq for w in box.peek()] == [3, 4]


def test_outbox_full_drops_exactly_the_oldest_and_counts_them(tmp_path):
    box = Outbox(tmp_path / "o.db", 5)
    for i in range(5):
        box.append(i, i + 1, {"a.b": 1}, {})
    w6 = box.append(5, 6, {"a.b": 1}, {})
    assert w6.c["agent.dropped_windows"] == 1
    assert [w.seq for w in box.peek()] == [2, 3, 4, 5, 6]
    for i in range(6, 9):
        box.append(i, i + 1, {}, {})
    windows = box.peek()
    assert [w.seq for w in windows] == [5, 6, 7, 8, 9]
    assert box.dropped_total == 4
    # every drop is reported exactly once in what is left: 1 (w6) + 1 + 1 + 1
    assert sum(w.c.get("agent.dropped_windows", 0) for w in windows) == 4
    assert read_summary(tmp_path / "o.db")["dropped_total"] == 4


def test_outbox_dropping_a_row_that_reported_drops_passes_its_count_on(tmp_path):
    box = Outbox(tmp_path / "o.db", 2)
    for i in range(6):
        box.append(i, i + 1, {}, {})
    windows = box.peek()
    assert [w.seq for w in windows] == [5, 6]
    assert sum(w.c.get("agent.dropped_windows", 0) for w in windows) == 4 == box.dropped_total


def test_core_closes_windows_and_counts_a_failing_sampler(tmp_path):
    class Broken:
        name = "broken"

        def sample(self, t0, t1):
            raise OSError("sensor gone")

    class Fixed:
        name = "fixed"

        def sample(self, t0, t1):
            return Sample({"net.errors": 2}, {"sys.cpu_pct": 5})

    now = [1_000_000_010_000]  # the window ends on a minute: gauges are sampled
    core = AgentCore(make_config(tmp_path), clock=lambda: now[0], sources=[Broken(), Fixed()])
    core.add("asr.requests", 3)
    now[0] += 10_000
    (window,) = core.tick()
    assert window.c == {"asr.requests": 3, "agent.sampler_errors": 1, "net.errors": 2}
    assert window.g == {"sys.cpu_pct": 5, "agent.backlog": 0}
    assert window.t1 % 10_000 == 0 and core.sampler_errors_total == 1
    assert core.recent.last_hour(now[0])[0]["asr.requests"] == 3


def test_core_record_window_backfills_long_windows_and_validates(tmp_path):
    core = AgentCore(make_config(tmp_path), clock=lambda: 1_000_000_000_000)
    w = core.record_window(0, 86_400_000, {"usage.interactions": 900})
    assert w.seq == 1 and core.outbox.peek()[0].c == {"usage.interactions": 900}
    with pytest.raises(ProtocolError):
        core.record_window(0, 86_400_001, {})
    with pytest.raises(ValueError):
        core.add("Bad Name", 1)


CRASHER = """
import sys
from agent.outbox import Outbox
box = Outbox(sys.argv[1], 50)
print("ready", flush=True)
i = 0
while True:
    box.append(i, i + 1, {"a.b": i % 7, "c.d": 1}, {"g.h": 1.5})
    i += 1
    if i % 3 == 0:
        lo = box.peek(0, 2)
        if lo:
            box.delete_range(lo[0].seq, lo[-1].seq)
"""


def test_outbox_kill9_while_writing_never_corrupts(tmp_path):
    db = tmp_path / "o.db"
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(db)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3 + 0.1 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        next_seq = int(conn.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()[0])
        max_seq = conn.execute("SELECT max(seq) FROM windows").fetchone()[0] or 0
        conn.close()
        assert max_seq < next_seq  # a seq is never handed out twice
    box = Outbox(db, 50)
    assert box.append(0, 1, {}, {}).seq == next_seq



def test_agent_core_uses_the_outbox_it_is_given_even_when_empty(tmp_path):
    """An empty Outbox has length 0: the core must still use it, not open a second one."""
    box = Outbox(tmp_path / "shared.db", 100)
    core = AgentCore(make_config(tmp_path), clock=lambda: 1_800_000_000_000, outbox=box)
    try:
        assert core.outbox is box
        core.record_window(1_700_000_000_000, 1_700_000_010_000, {"nav.tasks": 1})
        assert len(box) == 1
    finally:
        core.close()


def test_outbox_files_of_an_older_agent_become_0640(tmp_path):
    """An outbox created with a 022 umask (0644, as before issue 17) is tightened when opened."""
    import os
    import stat

    db = tmp_path / "o.db"
    old = os.umask(0o022)
    try:
        keep = sqlite3.connect(db)
        keep.execute("PRAGMA journal_mode=WAL")
        keep.execute("CREATE TABLE t (x)")
        keep.execute("INSERT INTO t VALUES (1)")
        keep.commit()  # the -wal and -shm exist while this connection stays open
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o644
        box = Outbox(db, 10)
        box.append(0, 1, {"a.b": 1}, {})
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"o.db": 0o640, "o.db-wal": 0o640, "o.db-shm": 0o640}
    box.close()
    keep.close()
