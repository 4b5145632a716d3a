"""Finding 7 of the hardening issue: a broker that cannot be reached (port closed, TLS certificate
not trusted) is logged with its cause, by the collector (throttled: not once per retry) and by the
agent (once per attempt, whose backoff spaces them)."""

from __future__ import annotations

import json
import time

from tests.plugins.collector import new_collector
from tests.support.broker import free_port, make_tls_files
from tests.support.procs import Proc, robopulse_cmd, wait_until


def events(proc: Proc, name: str) -> list[dict]:
    out = [json.loads(line) for line in proc.output().splitlines() if line.startswith("{")]
    return [e for e in out if e.get("event") == name]


def start_collector_against(tmp_path, broker, **extra) -> Proc:
    col = new_collector(tmp_path / "col", broker, **extra)
    return Proc(robopulse_cmd("collector", "run", "--config", str(col.config)), col.log_path)


class ClosedPort:
    port = free_port()


def test_collector_logs_refused_broker_connection_once(tmp_path):
    proc = start_collector_against(tmp_path, ClosedPort())
    try:
        failed = wait_until(lambda: events(proc, "broker_connect_failed"), 20, 0.2, "connect failure logged", (proc,))
        assert failed[0]["cause"] == "refused" and str(ClosedPort.port) in failed[0]["broker"]
        assert "Connection refused" in failed[0]["error"]
        # paho retries every 1-30 s: after several attempts, still one line (the cause did not change)
        time.sleep(4)
        assert len(events(proc, "broker_connect_failed")) == 1
    finally:
        assert proc.terminate() == 0


def test_collector_logs_tls_verify_failure(tmp_path, make_broker, tls_files):
    broker = make_broker(tls=tls_files)
    wrong = make_tls_files(tmp_path / "other-ca")
    proc = start_collector_against(tmp_path, broker, **{"mqtt.tls_ca": str(wrong.ca)})
    try:
        failed = wait_until(lambda: events(proc, "broker_connect_failed"), 20, 0.2, "TLS failure logged", (proc,))
        assert failed[0]["cause"] == "tls_verify_failed", failed
        assert "CERTIFICATE_VERIFY_FAILED" in failed[0]["error"]
    finally:
        assert proc.terminate() == 0


def test_agent_logs_refused_and_tls_verify_failures(tmp_path, make_broker, tls_files, agent_config, start_agent):
    path, _ = agent_config(None, name="closed")
    proc = start_agent(path, "closed.log")
    failed = wait_until(lambda: events(proc, "mqtt_connect_failed"), 20, 0.2, "refused logged", (proc,))
    assert "ConnectionRefusedError" in failed[0]["error"]

    broker = make_broker(tls=tls_files)
    wrong = make_tls_files(tmp_path / "other-ca")
    path, _ = agent_config(broker, name="tls", mqtt={"tls_ca": str(wrong.ca)})
    proc = start_agent(path, "tls.log")
    failed = wait_until(lambda: events(proc, "mqtt_connect_failed"), 20, 0.2, "TLS failure logged", (proc,))
    assert "CERTIFICATE_VERIFY_FAILED" in failed[0]["error"], failed
