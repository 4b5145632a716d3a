"""The API inside the real collector process: telemetry over a real broker, the health loop running,
a feed client watching, an admin acting, a reconnect with Last-Event-ID."""

from __future__ import annotations

import json
import threading
import time

import requests

from protocol.codec import encode_status, make_status
from protocol.topics import status_topic
from tests.plugins.collector import Fleet, RunningCollector, write_collector_config
from tests.support.broker import free_port
from tests.support.procs import wait_until

ADMIN = "admin-token-456"
VIEWER = "viewer-token-123"


class FeedListener:
    """Reads a live feed in a thread; events as (id, kind, data)."""

    def __init__(self, url: str, last_event_id: int | None = None):
        headers = {"Authorization": f"Bearer {VIEWER}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.resp = requests.get(url + "/api/v1/feed", headers=headers, stream=True, timeout=(5, 60))
        assert self.resp.status_code == 200
        self.events: list[tuple[int, str, dict]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.resp.iter_lines(chunk_size=1, decode_unicode=True):  # no 512-byte buffering
                if raw == "" and "data" in fields:
                    self.events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
                    fields = {}
                elif raw and not raw.startswith(":"):
                    key, _, value = raw.partition(": ")
                    fields[key] = value
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed by the test

    def find(self, pred) -> tuple[int, str, dict] | None:
        return next((e for e in list(self.events) if pred(e)), None)

    def close(self) -> None:
        self.resp.close()


def test_api_in_collector_feed_ack_and_resume(broker, make_publisher, tmp_path):
    folder = tmp_path / "collector"
    folder.mkdir()
    port = free_port()
    # a heartbeat every second also lets the test's reader threads notice a close quickly
    config = write_collector_config(folder / "collector.toml", broker.port, folder / "store.db", port,
                                    **{"http.feed_heartbeat_s": 1})
    with config.open("a") as fh:  # fast cycles, an offline robot alerts at once, an admin token
        fh.write('\n[[http.tokens]]\ntoken = "admin-token-456"\nrole = "admin"\nname = "ops-lead"\n'
                 "\n[health]\ninterval_s = 1\n\n[alerts.robot_offline]\nfor_s = 0\nthreshold = 0.1\nclear = 0.0\n")
    col = RunningCollector(None, config, folder / "store.db", port, folder / "collector.log")
    col.start()
    listener = None
    try:
        now = int(time.time() * 1000)
        fleet = Fleet(2, customer="acme", base_ms=now - now % 10_000 - 200_000)  # recent: not stale
        pub = make_publisher(broker.port)
        for i, robot in enumerate(fleet.robots):
            pub.publish(status_topic("acme", robot.id), encode_status(make_status(
                robot.id, "acme", robot.site, "online", ts=int(time.time() * 1000), scene="museum")))
            pub.publish(*fleet.batch(i, 20))
        pub.wait_all()

        def acme():
            items = col.get_json("/api/v1/customers?customer=acme")["items"]
            return items[0] if items and items[0]["health"] else None
        wait_until(acme, 60, 0.2, "acme assessed by the health loop", (col.proc,))
        assert col.get_json("/api/v1/alerts?rule=robot_offline")["total"] == 0  # every robot is up
        with col.db_read() as db:
            score, color = db.execute("SELECT score, color FROM customer_health WHERE customer='acme'").fetchone()
        summary = acme()
        assert (summary["health"]["score"], summary["health"]["color"]) == (score, color)

        listener = FeedListener(col.url)
        gone = fleet.robots[0]
        pub.publish(status_topic("acme", gone.id), encode_status(make_status(
            gone.id, "acme", gone.site, "offline", ts=int(time.time() * 1000), scene="museum", reason="lost")))
        pub.wait_all()

        def fired():
            return listener.find(lambda e: e[1] == "alert" and e[2]["state"] == "firing"
                                 and e[2]["robot"] == gone.id)
        wait_until(fired, 60, 0.2, "the offline robot's alert fires on the feed", (col.proc,))
        fire_id, _, alert = fired()
        listener.close()

        resp = requests.post(f"{col.url}/api/v1/alerts/{alert['id']}/ack", json={"note": "on site"},
                             headers={"Authorization": f"Bearer {VIEWER}"}, timeout=10)
        assert resp.status_code == 403
        resp = requests.post(f"{col.url}/api/v1/alerts/{alert['id']}/ack", json={"note": "on site"},
                             headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
        assert resp.status_code == 200 and resp.json()["state"] == "acknowledged"

        listener = FeedListener(col.url, last_event_id=fire_id)  # resume: the ack happened while away
        wait_until(lambda: listener.find(lambda e: e[1] == "alert" and e[2]["id"] == alert["id"]
                                         and e[2]["state"] == "acknowledged"), 30, 0.2, "missed ack replayed")
        _, _, acked = listener.find(lambda e: e[1] == "alert" and e[2]["state"] == "acknowledged")
        assert acked["actor"] == "ops-lead" and acked["note"] == "on site"
        assert all(e[0] > fire_id for e in listener.events)

        page = requests.get(col.url + "/", timeout=10)
        assert page.status_code == 200 and "/static/app.js" in page.text
    finally:
        if listener is not None:
            listener.close()
        col.proc.terminate()
