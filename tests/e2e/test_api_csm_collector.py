"""Issue 14 in the real collector process: customers imported with their CSM and tier
(``import-customers``), robots reporting over a real broker, the health loop raising alerts.  A
CSM's book lists their open alerts and this week's, and the webhooks are routed by CSM and tier
to real HTTP receivers on loopback (a tech-touch customer's warning reaches only the webhook that
does not follow the tiers)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from protocol.codec import encode_status, make_status
from protocol.topics import status_topic
from tests.plugins.collector import Fleet
from tests.support.procs import robopulse_cmd, wait_until

CUSTOMERS = """id,name,scene,tier,contract_start,contract_end,arr,csm
acme,上海博物馆,museum,high,2025-01-01,2030-12-31,120000,alice
bravo,城市银行,bank,tech,2025-01-01,2030-12-31,42000,bob
"""


class Receivers:
    """One HTTP server on loopback; ``/<name>`` records each POSTed body under ``name``."""

    def __init__(self):
        got: dict[str, list[dict]] = {}
        self.got = got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.setdefault(self.path.strip("/"), []).append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def alerts(self, name: str) -> list[tuple[str, str]]:
        return [(p["alert"]["customer"], p["event"]) for p in self.got.get(name, [])]


@pytest.fixture
def receivers():
    r = Receivers()
    yield r
    r.server.shutdown()


def test_api_csm_book_and_routed_webhooks_in_the_real_collector(broker, start_collector, make_publisher, tmp_path,
                                                                receivers):
    hooks = "".join(f'\n[[notify.webhooks]]\nname = "{name}"\nurl = "{receivers.url(name)}"\n{extra}\n'
                    for name, extra in (("alice", 'csms = ["alice"]'), ("bob", 'csms = ["bob"]'),
                                        ("ops", "follow_tiers = false")))
    col = start_collector(broker, extra_toml="\n[health]\ninterval_s = 1\n\n[alerts.robot_offline]\nfor_s = 0\n"
                                             "threshold = 0.1\nclear = 0.0\n\n[notify]\npoll_s = 0.1\n" + hooks)
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    done = subprocess.run(robopulse_cmd("collector", "import-customers", str(tmp_path / "customers.csv"),
                                        "--config", str(col.config)), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    now = int(time.time() * 1000)
    fleets = {c: Fleet(2, customer=c, prefix=c[0], base_ms=now - now % 10_000 - 200_000) for c in ("acme", "bravo")}
    pub = make_publisher(broker.port)
    for customer, fleet in fleets.items():
        for i, robot in enumerate(fleet.robots):
            pub.publish(status_topic(customer, robot.id), encode_status(make_status(
                robot.id, customer, robot.site, "online", ts=int(time.time() * 1000), scene="museum")))
            pub.publish(*fleet.batch(i, 20))
    pub.wait_all()
    wait_until(lambda: all(c["health"] for c in col.get_json("/api/v1/customers")["items"]), 60, 0.2,
               "both customers assessed", (col.proc,))
    # one robot of each customer is lost: robot_offline (a warning) fires for both
    for customer, fleet in fleets.items():
        gone = fleet.robots[0]
        pub.publish(status_topic(customer, gone.id), encode_status(make_status(
            gone.id, customer, gone.site, "offline", ts=int(time.time() * 1000), scene="museum", reason="lost")))
    pub.wait_all()
    wait_until(lambda: col.get_json("/api/v1/alerts?rule=robot_offline&state=firing")["total"] == 2, 60, 0.2,
               "both alerts firing", (col.proc,))
    wait_until(lambda: len(receivers.alerts("ops")) == 2, 30, 0.1, "ops got both", (col.proc,))
    wait_until(lambda: receivers.alerts("alice") == [("acme", "firing")], 30, 0.1, "alice got acme's",
               (col.proc,))
    assert sorted(receivers.alerts("ops")) == [("acme", "firing"), ("bravo", "firing")]
    # bravo is tech-touch: its warning was never queued for bob's webhook (queued with the alert)
    with col.db_read() as db:
        assert db.execute("SELECT count(*) FROM notifications WHERE target = 'bob'").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM notifications WHERE target = 'alice'").fetchone()[0] == 1

    alert = col.get_json("/api/v1/alerts?rule=robot_offline&customer=acme")["items"][0]
    book = col.get_json("/api/v1/csms/alice")
    assert [c["id"] for c in book["customers"]] == ["acme"]
    acme = book["customers"][0]
    overview = col.get_json("/api/v1/customers?csm=alice")["items"][0]
    assert acme["open_alerts"] == overview["open_alerts"] == 1
    assert [a["id"] for a in acme["alerts"]] == [alert["id"]]
    assert acme["health"]["color"] == overview["health"]["color"]
    assert [a["id"] for a in book["week"]["alerts_opened"]] == [alert["id"]]
    assert (book["summary"]["customers"], book["summary"]["arr"], book["summary"]["open_alerts"]) == (1, 120000.0, 1)
    assert [c["id"] for c in col.get_json("/api/v1/csms/bob")["customers"]] == ["bravo"]
    with pytest.raises(urllib.error.HTTPError) as err:
        col.get_json("/api/v1/csms/nobody")
    assert err.value.code == 404 and json.loads(err.value.read())["error"]["message"] == "no CSM nobody"
