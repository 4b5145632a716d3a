"""Finding 7 of the hardening issue, collector side: one collector per store (a second one exits
at once without touching the broker session), HTTP bound before MQTT, store files not world-readable."""

from __future__ import annotations

import socket
import stat
import subprocess

from tests.plugins.collector import Fleet, new_collector
from tests.support.procs import robopulse_cmd, wait_until


def run_second(config, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(robopulse_cmd("collector", "run", "--config", str(config)), capture_output=True,
                          text=True, timeout=timeout)


def test_store_second_collector_on_the_same_store_exits_without_taking_the_session(
        tmp_path, broker, start_collector, make_publisher):
    first = start_collector(broker)
    connects = first.metric("robopulse_ingest_connects_total")
    # the same store and client id, another HTTP port: only the lock can stop it
    second = new_collector(tmp_path / "second", broker)
    text = first.config.read_text().replace(f"127.0.0.1:{first.http_port}", f"127.0.0.1:{second.http_port}")
    second.config.write_text(text)
    done = run_second(second.config)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot start" in done.stderr and "in use by another collector" in done.stderr
    assert str(first.db) in done.stderr
    # the first kept its broker session: no reconnect, and it still stores what arrives
    assert first.healthz()["mqtt"] == "connected"
    assert first.metric("robopulse_ingest_connects_total") == connects
    assert "already connected" not in broker.log()  # Mosquitto's line when a session is taken over
    fleet = Fleet(1, seed=9)
    pub = make_publisher(broker.port)
    pub.publish(*fleet.batch(0, 5))
    pub.wait_all()
    wait_until(lambda: first.window_count() == 5, 30, 0.1, "first still stores", (first.proc,))


def _client_id(col) -> str:
    for line in col.config.read_text().splitlines():
        if line.startswith("client_id"):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def test_store_busy_http_port_fails_before_connecting_to_the_broker(tmp_path, broker):
    col = new_collector(tmp_path / "col", broker)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", col.http_port))
        busy.listen()
        done = run_second(col.config)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot listen on 127.0.0.1:" in done.stderr
    assert "broker_connected" not in done.stdout
    assert _client_id(col) not in broker.log()  # never connected to the broker


def test_store_files_are_not_world_readable(broker, start_collector, make_publisher):
    col = start_collector(broker)
    pub = make_publisher(broker.port)
    pub.publish(*Fleet(1, seed=2).batch(0, 3))
    pub.wait_all()
    wait_until(lambda: col.window_count() == 3, 30, 0.1, "stored", (col.proc,))
    for suffix in ("", "-wal", "-shm", ".lock"):
        path = col.db.with_name(col.db.name + suffix)
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o007 == 0 and mode & 0o020 == 0, f"{path.name}: {oct(mode)}"


def test_store_stays_locked_while_an_orphaned_writer_process_lives(tmp_path, broker, start_collector):
    """kill -9 of the main process: its writer process commits what it holds before it exits;
    until then no new collector may write beside it."""
    import os
    import signal

    from tests.e2e.test_store_ledger import _writer_pid

    col = start_collector(broker)
    writer = _writer_pid(col)
    os.kill(writer, signal.SIGSTOP)  # keep the orphan alive as long as the test needs
    try:
        col.proc.kill9()
        done = run_second(col.config)
        assert done.returncode == 1 and "in use by another collector" in done.stderr, done.stderr
    finally:
        os.kill(writer, signal.SIGKILL)
        os.kill(writer, signal.SIGCONT)
    wait_until(lambda: not os.path.exists(f"/proc/{writer}") or
               open(f"/proc/{writer}/stat").read().split()[2] == "Z", 10, 0.1, "orphan gone")
    col.restart()  # the lock went with the last process that held it
    assert col.healthz()["status"] == "ok"
