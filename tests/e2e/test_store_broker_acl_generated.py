"""The default broker deployment (docs/deploy.md): accounts and ACL generated from the asset
registry by ``robopulse collector broker-acl``.  A real Mosquitto started with exactly the generated
files lets each robot publish under its own customer and id only: robot A cannot publish to robot
B's topic nor under another customer (the broker refuses, so the collector never sees it), its own
topic works, and the collector reads through its own account."""

from __future__ import annotations

import csv
import stat
import subprocess
import time

from protocol.codec import encode_status, make_status
from protocol.topics import status_topic, telemetry_topic
from tests.e2e.test_store_broker_acl import _v5_publish
from tests.e2e.test_store_enroll import _batch, _rows
from tests.plugins.collector import new_collector
from tests.support.procs import robopulse_cmd, wait_until

REFUSED = 135  # MQTT 5 "Not authorized"


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(robopulse_cmd("collector", *map(str, args)), capture_output=True, text=True, timeout=60)


def test_store_broker_acl_generated_from_the_registry_pins_each_robot(tmp_path, make_broker):
    pre = make_broker(start=False)  # a port for the collector's config; the real broker comes below
    col = new_collector(tmp_path / "collector", pre, **{
        "mqtt.username": "robopulse-collector", "mqtt.password": "collector-secret",
        "mqtt.client_id": "robopulse-collector", "ingest.enroll": "registry"})
    (tmp_path / "customers.csv").write_text("id,name\nacme,Acme\nrival,Rival\n", encoding="utf-8")
    assert _cli("import-customers", tmp_path / "customers.csv", "--config", col.config).returncode == 0
    (tmp_path / "robots.csv").write_text("robot,customer,site,activated\nr-0001,acme,hq,2026-03-01\n"
                                         "r-0002,acme,hq,2026-03-01\nr-0101,rival,mall,2026-04-01\n",
                                         encoding="utf-8")
    assert _cli("import-robots", tmp_path / "robots.csv", "--config", col.config).returncode == 0
    out = tmp_path / "broker-files"
    result = _cli("broker-acl", "--config", col.config, "--out", out)
    assert result.returncode == 0, result.stderr
    with open(out / "credentials.csv", newline="") as fh:
        creds = {r["robot"]: r["password"] for r in csv.DictReader(fh)}
    assert set(creds) == {"r-0001", "r-0002", "r-0101"}
    assert stat.S_IMODE((out / "credentials.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "password_file").stat().st_mode) == 0o600
    assert "collector-secret" not in (out / "password_file").read_text()  # hashed
    acl = (out / "acl_file").read_text()
    assert "user r-0001\ntopic write robopulse/v1/acme/r-0001/#\n" in acl
    assert "user r-0101\ntopic write robopulse/v1/rival/r-0101/#\n" in acl
    # a second run keeps every robot's password (the robots are configured with them)
    assert _cli("broker-acl", "--config", col.config, "--out", out).returncode == 0
    with open(out / "credentials.csv", newline="") as fh:
        assert {r["robot"]: r["password"] for r in csv.DictReader(fh)} == creds

    broker = make_broker("generated", port=pre.port, password_file=out / "password_file",
                         acl_file=out / "acl_file")
    col.start()
    try:
        now = int(time.time() * 1000)
        port = broker.port
        # robot A as itself: accepted by the broker and stored
        own = _batch("r-0001", "acme", "00000000000000a1", [1, 2, 3], {"usage.interactions": 2}, now)
        assert _v5_publish(port, "r-0001", creds["r-0001"], telemetry_topic("acme", "r-0001"), own)["puback"] == 0
        assert _v5_publish(port, "r-0001", creds["r-0001"], status_topic("acme", "r-0001"),
                           encode_status(make_status("r-0001", "acme", "hq", "online", ts=now)))["puback"] == 0
        # robot A on robot B's topic (payload claiming B), and under another customer: dropped by the broker
        spoof = _batch("r-0002", "acme", "00000000000000b2", [1], {"usage.interactions": 10**9}, now)
        assert _v5_publish(port, "r-0001", creds["r-0001"], telemetry_topic("acme", "r-0002"),
                           spoof)["puback"].value == REFUSED
        moved = _batch("r-0001", "rival", "00000000000000a1", [4], {"usage.interactions": 10**9}, now)
        assert _v5_publish(port, "r-0001", creds["r-0001"], telemetry_topic("rival", "r-0001"),
                           moved)["puback"].value == REFUSED
        assert _v5_publish(port, "r-0001", creds["r-0001"], telemetry_topic("rival", "r-0101"),
                           moved)["puback"].value == REFUSED
        # another robot's password, a guess, and a robot not in the registry: no connection
        assert _v5_publish(port, "r-0001", creds["r-0002"], telemetry_topic("acme", "r-0001"), own)["connack"].is_failure
        assert _v5_publish(port, "r-0009", "guess", telemetry_topic("acme", "r-0009"), own)["connack"].is_failure
        # robot B and the other customer's robot as themselves: fine
        b = _batch("r-0002", "acme", "00000000000000b2", [1, 2], {"usage.interactions": 1}, now)
        assert _v5_publish(port, "r-0002", creds["r-0002"], telemetry_topic("acme", "r-0002"), b)["puback"] == 0
        c = _batch("r-0101", "rival", "00000000000000c1", [1], {"usage.interactions": 1}, now)
        assert _v5_publish(port, "r-0101", creds["r-0101"], telemetry_topic("rival", "r-0101"), c)["puback"] == 0
        wait_until(lambda: col.window_count() == 6, 30, 0.1, "the three robots' own windows", (col.proc,))
        assert _rows(col, "SELECT robot, SUM(total) FROM counter_day GROUP BY robot ORDER BY robot") == \
            [("r-0001", 6), ("r-0002", 2), ("r-0101", 1)]
        assert _rows(col, "SELECT id, customer FROM robots ORDER BY id") == \
            [("r-0001", "acme"), ("r-0002", "acme"), ("r-0101", "rival")]
    finally:
        col.proc.terminate()
