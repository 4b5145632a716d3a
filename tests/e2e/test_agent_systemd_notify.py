"""The agent speaks systemd's notify protocol itself: READY, STATUS, WATCHDOG, STOPPING."""

from __future__ import annotations

import socket

from agent.sdnotify import notify, watchdog_interval_s
from tests.support.procs import Proc, robopulse_cmd, wait_until


def test_sdnotify_is_a_noop_without_systemd():
    assert notify("READY=1", env={}) is False
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "60000000"}) == 30


def test_agent_sends_ready_status_and_watchdog(tmp_path, broker, agent_config):
    path, _ = agent_config(broker)
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.2)
    messages: list[str] = []
    proc = Proc(robopulse_cmd("agent", "run", "--config", str(path)), tmp_path / "agent.log",
                env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"})
    try:
        def received(*wanted):
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                pass
            text = "\n".join(messages)
            return all(w in text for w in wanted)
        wait_until(lambda: received("READY=1", "WATCHDOG=1", "STATUS=connected"), 30, interval=0,
                   message="READY, WATCHDOG and STATUS", procs=(proc,))
        assert proc.terminate() == 0
        wait_until(lambda: received("STOPPING=1"), 10, interval=0, message="STOPPING=1 after SIGTERM")
    finally:
        proc.kill9()
        sock.close()
