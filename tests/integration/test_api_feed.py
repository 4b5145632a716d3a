"""Must-show 4: a feed client gets an alert transition within 2 s, and a reconnect with
Last-Event-ID delivers what it missed."""

from __future__ import annotations

import asyncio
import json
import time

from tests.plugins.api import ADMIN, bearer


class SSEReader:
    """Parses a text/event-stream response into (id, event, data) tuples; comments counted apart."""

    def __init__(self, resp):
        self.resp = resp
        self.comments = 0

    async def next_event(self, timeout: float = 5.0) -> tuple[int | None, str, dict]:
        fields: dict[str, str] = {}
        data: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            line = await asyncio.wait_for(self.resp.content.readline(), deadline - time.monotonic())
            line = line.decode().rstrip("\n")
            if line == "":
                if data:
                    return (int(fields["id"]) if "id" in fields else None, fields.get("event", "message"),
                            json.loads("\n".join(data)))
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            key, _, value = line.partition(": ")
            if key == "data":
                data.append(value)
            else:
                fields[key] = value


async def test_api_feed_delivers_alert_transition_within_2s(api_client, api_seed):
    resp = await api_client.get("/api/v1/feed", headers=bearer())
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
    reader = SSEReader(resp)
    alert = api_seed.alerts["ktv_offline"]
    ack = await api_client.post(f"/api/v1/alerts/{alert}/ack", headers=bearer(ADMIN))
    assert ack.status == 200  # the transition is committed when the action answers
    started = time.monotonic()
    event_id, kind, data = await reader.next_event(timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert kind == "alert" and data["id"] == alert and data["state"] == "acknowledged"
    assert data["actor"] == "ops-admin" and event_id > 3  # after the three seeded events
    resp.close()


async def test_api_feed_resumes_after_last_event_id(api_client, api_seed):
    resp = await api_client.get("/api/v1/feed", headers=bearer())
    reader = SSEReader(resp)
    a1, a2 = api_seed.alerts["ktv_offline"], api_seed.alerts["sky_renewal"]
    await api_client.post(f"/api/v1/alerts/{a1}/ack", headers=bearer(ADMIN))
    seen_id, _, data = await reader.next_event()
    assert data["id"] == a1
    resp.close()  # the client goes away; meanwhile two more transitions happen
    await api_client.post(f"/api/v1/alerts/{a2}/snooze", json={"minutes": 5}, headers=bearer(ADMIN))
    await api_client.post(f"/api/v1/alerts/{a2}/ack", headers=bearer(ADMIN))
    again = await api_client.get("/api/v1/feed", headers={**bearer(), "Last-Event-ID": str(seen_id)})
    reader = SSEReader(again)
    missed = [await reader.next_event(), await reader.next_event()]
    assert [(d["id"], d["state"]) for _, _, d in missed] == [(a2, "snoozed"), (a2, "acknowledged")]
    assert missed[0][0] == seen_id + 1 and missed[1][0] == seen_id + 2
    again.close()


async def test_api_feed_query_resume_filters_and_heartbeat(api_client):
    # from the start, customer_health only, token in the query string as EventSource sends it
    resp = await api_client.get("/api/v1/feed?last_event_id=0&kind=customer_health&access_token="
                                "viewer-token-123")
    reader = SSEReader(resp)
    ids = [(await reader.next_event())[0] for _ in range(3)]
    assert ids == [1, 2, 3]
    # nothing else happens: a heartbeat comment arrives (heartbeat 1 s in the test config)
    line = b""
    while line != b": heartbeat\n":
        line = await asyncio.wait_for(resp.content.readline(), 10)
    resp.close()
    bad = await api_client.get("/api/v1/feed?kind=nonsense", headers=bearer())
    assert bad.status == 400
    assert (await api_client.get("/api/v1/feed")).status == 401


async def test_api_feed_carries_a_health_cycle_firing(aiohttp_client, store, store_url, fleet):
    """The real engine: a robot goes offline, a cycle opens an alert (pending), the next one fires it
    while a client listens; the client sees the firing within 2 s of the cycle's commit."""
    from collector.store.sqlite import seed
    from tests.plugins.api import make_api_app
    from tests.plugins.health import HOUR, T, evaluate, make_settings

    robots = fleet("gone-museum", 2, "museum")
    seed.set_state(store, robots[0], "offline", "lost", T - 2 * HOUR)
    settings = make_settings()
    await asyncio.to_thread(evaluate, store, T - 30 * 60_000, settings)
    client = await aiohttp_client(make_api_app(store_url, now_ms=T))
    resp = await client.get("/api/v1/feed?kind=alert", headers=bearer())
    reader = SSEReader(resp)
    await asyncio.to_thread(evaluate, store, T, settings)
    committed = time.monotonic()
    _, kind, data = await reader.next_event(timeout=2.0)
    assert time.monotonic() - committed < 2.0
    assert (kind, data["state"], data["customer"]) == ("alert", "firing", "gone-museum")
    stored = store.execute("SELECT rule, state FROM alerts WHERE id = ?", (data["id"],)).fetchone()
    assert stored == (data["rule"], "firing")
    resp.close()


async def test_api_feed_resume_past_pruned_events_says_gap(api_client, api_seed):
    conn = api_seed.connect()
    conn.execute("DELETE FROM feed_events WHERE id <= 2")  # pruned by retention
    conn.close()
    resp = await api_client.get("/api/v1/feed", headers={**bearer(), "Last-Event-ID": "0"})
    reader = SSEReader(resp)
    first = await reader.next_event()
    assert first[1:] == ("gap", {"after": 0, "oldest": 3})
    assert (await reader.next_event())[0] == 3  # then what is still kept
    resp.close()
