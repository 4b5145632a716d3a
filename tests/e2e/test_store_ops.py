"""Must-show 6 and the ops endpoints: /healthz, and /metrics that promtool accepts."""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.plugins.collector import Fleet
from tests.support.procs import wait_until


def test_store_metrics_pass_promtool_and_count_ingest(broker, start_collector, make_publisher):
    col = start_collector(broker)
    fleet = Fleet(3, seed=5)
    pub = make_publisher(broker.port)
    for i in range(3):
        pub.publish(*fleet.batch(i, 5))
    pub.publish("robopulse/v1/acme/r000/telemetry", b"\xc1junk")
    pub.wait_all()
    wait_until(lambda: col.metric("robopulse_store_windows_stored_total") == 15, 30, 0.1, "windows counted")
    text = col.metrics_text()
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed; `make setup` installs the prometheus package")
    result = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode() + text
    for name in ("robopulse_ingest_messages_total", "robopulse_store_windows_duplicate_total",
                 "robopulse_store_flush_seconds_total", "robopulse_ingest_backlog_messages"):
        assert f"# TYPE {name} " in text
    assert col.metric("robopulse_ingest_rejects_total", 'reason="bad_msgpack"') == 1
    assert col.metric("robopulse_ingest_messages_total", 'kind="telemetry"') == 4


def test_store_healthz_reports_broker_connection(broker, start_collector):
    col = start_collector(broker)
    body = col.get_json("/healthz", None)
    assert body["status"] == "ok" and body["mqtt"] == "connected" and body["writer"] == "running"
    broker.stop()
    wait_until(lambda: col.get_json("/healthz", None)["mqtt"] == "disconnected", 30, 0.2, "disconnect seen")
    broker.start()
    wait_until(lambda: col.get_json("/healthz", None)["mqtt"] == "connected", 60, 0.2, "reconnected",
               (col.proc,))


def test_store_counters_route_needs_token_and_known_robot(broker, start_collector):
    col = start_collector(broker)
    with pytest.raises(urllib.error.HTTPError) as err:
        col.get_json("/api/v1/robots/r000/counters", token=None)
    assert err.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as err:
        col.get_json("/api/v1/robots/nobody/counters?from=0&to=1000")
    assert err.value.code == 404


def test_store_collector_stops_cleanly_on_sigterm(broker, start_collector):
    import os
    import signal

    import psutil

    col = start_collector(broker)
    group = os.getpgid(col.proc.pid)
    writer = [p for p in psutil.Process(col.proc.pid).children() if "spawn_main" in " ".join(p.cmdline())]
    assert len(writer) == 1
    if group != os.getpgid(0):  # as systemd or a terminal would: the whole group gets SIGTERM
        os.killpg(group, signal.SIGTERM)
    assert col.proc.terminate() == 0
    assert not writer[0].is_running() or writer[0].status() == psutil.STATUS_ZOMBIE
    log = col.log_path.read_text()  # Proc.output() needs the file open
    assert "collector_stopped" in log and "writer_process_died" not in log
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(col.url + "/healthz", timeout=2)


def test_store_collector_over_tls_with_client_certificate(make_broker, tls_files, start_collector):
    """The collector settings of docs/deploy.md over TLS: CA, client certificate, password."""
    broker = make_broker(tls=tls_files, require_certificate=True, passwords={"robopulse-collector": "pw"})
    col = start_collector(broker, **{"mqtt.tls_ca": str(tls_files.ca), "mqtt.tls_cert": str(tls_files.client_cert),
                                     "mqtt.tls_key": str(tls_files.client_key),
                                     "mqtt.username": "robopulse-collector", "mqtt.password": "pw"})
    assert col.get_json("/healthz", None)["mqtt"] == "connected"
