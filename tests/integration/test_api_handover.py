"""Issues 14 and 15: API tokens name a person, and a customer's contacts, notes and handover,
against the real app (aiohttp over loopback) and a real SQLite store seeded by tests/plugins/api.py.

Checked: ack, snooze, commercial events and notes record the token's person (and a token without
one its name, as in the first release); notes and contacts refuse bad input with a 400 naming the
field and store nothing; unknown customers are 404; viewers read but cannot write; the handover
holds the last 90 days of the timeline and the report months in the customer's zone."""

from __future__ import annotations

import pytest

from collector.config import load_mapping

from protocol.config import ConfigError
from tests.plugins.api import ADMIN, CSM_ADMIN, CSM_PERSON, DAY_MS, NOW_MS, VIEWER, bearer, connect_store

NOTES = "/api/v1/customers/acme-museum/notes"
CONTACTS = "/api/v1/customers/acme-museum/contacts"


def _count(seed, table: str) -> int:
    conn = connect_store(seed.path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# ------------------------------------------------------------------ tokens name a person
def test_api_tokens_person_is_optional_and_checked():
    tokens = [{"token": "viewer-token-1"}, {"token": "admin-token-1", "role": "admin", "person": "王芳"}]
    cfg = load_mapping({"http": {"tokens": tokens}})
    assert [(t.name, t.person) for t in cfg.http.tokens] == [("token0", ""), ("token1", "王芳")]
    for bad in ("rules", " 王芳", "x" * 101, "a\nb"):
        with pytest.raises(ConfigError, match=r"http.tokens\[0\].person"):
            load_mapping({"http": {"tokens": [{"token": "long-enough", "person": bad}]}})


async def test_api_me_names_the_person(api_client):
    me = await (await api_client.get("/api/v1/me", headers=bearer(CSM_ADMIN))).json()
    assert me == {"name": "wang-fang-laptop", "role": "admin", "person": CSM_PERSON}
    me = await (await api_client.get("/api/v1/me", headers=bearer(ADMIN))).json()
    assert me == {"name": "ops-admin", "role": "admin", "person": ""}


async def test_api_ack_and_snooze_record_the_person(api_client, api_seed):
    ack = await api_client.post(f"/api/v1/alerts/{api_seed.alerts['ktv_offline']}/ack",
                                json={"note": "called the venue"}, headers=bearer(CSM_ADMIN))
    assert ack.status == 200
    last = (await ack.json())["events"][-1]
    assert (last["to_state"], last["actor"], last["note"]) == ("acknowledged", CSM_PERSON, "called the venue")
    snooze = await api_client.post(f"/api/v1/alerts/{api_seed.alerts['sky_renewal']}/snooze",
                                   json={"minutes": 60}, headers=bearer(CSM_ADMIN))
    assert (await snooze.json())["events"][-1]["actor"] == CSM_PERSON
    timeline = (await (await api_client.get("/api/v1/customers/kiwi-ktv", headers=bearer())).json())["timeline"]
    assert timeline[0]["actor"] == CSM_PERSON


async def test_api_ack_by_a_token_without_person_records_its_name(api_client, api_seed):
    resp = await api_client.post(f"/api/v1/alerts/{api_seed.alerts['ktv_offline']}/ack", headers=bearer(ADMIN))
    assert (await resp.json())["events"][-1]["actor"] == "ops-admin"


async def test_api_event_posted_records_the_person(api_client):
    resp = await api_client.post("/api/v1/customers/acme-museum/events", headers=bearer(CSM_ADMIN),
                                 json={"date": "2026-11-20", "kind": "expansion", "amount": 20000, "robots": 2})
    assert resp.status == 201
    event = (await resp.json())["event"]
    assert (event["actor"], event["source"]) == (CSM_PERSON, "api")


# ------------------------------------------------------------------ notes
async def test_api_notes_post_is_attributed_and_listed_newest_first(api_client):
    first = await api_client.post(NOTES, json={"text": "  馆长换人了，新馆长关注导览数据。 "}, headers=bearer(CSM_ADMIN))
    assert first.status == 201
    note = (await first.json())["note"]
    assert note["text"] == "馆长换人了，新馆长关注导览数据。"  # trimmed
    assert (note["author"], note["token"], note["created_ms"], note["customer"]) == (
        CSM_PERSON, "wang-fang-laptop", NOW_MS, "acme-museum")
    second = await (await api_client.post(NOTES, json={"text": "renewal call booked"}, headers=bearer(ADMIN))).json()
    assert second["note"]["author"] == "ops-admin"  # no person: the token's name
    listed = await (await api_client.get(NOTES, headers=bearer(VIEWER))).json()
    assert [n["id"] for n in listed["items"]] == [second["note"]["id"], note["id"]]  # same time: newest id first
    assert listed["total"] == 2
    paged = await (await api_client.get(NOTES + "?limit=1&offset=1", headers=bearer())).json()
    assert [n["id"] for n in paged["items"]] == [note["id"]] and paged["total"] == 2
    other = await (await api_client.get("/api/v1/customers/kiwi-ktv/notes", headers=bearer())).json()
    assert other["items"] == [] and other["total"] == 0


@pytest.mark.parametrize("body,message", [
    (b"not json", "body must be JSON"),
    (b"[1]", "body must be a JSON object"),
    (b"{}", "text is required"),
    (b'{"text": "   "}', "text must not be blank"),
    (b'{"text": 5}', "text must be a string"),
    (b'{"text": "x", "author": "someone else"}', "unknown field 'author'"),
    (('{"text": "' + "长" * 4001 + '"}').encode(), "text must be at most 4000 characters"),
    (b'{"text": "a\\u0000b"}', "text must not contain control characters"),
])
async def test_api_notes_bad_input_is_a_clear_400_and_stores_nothing(api_client, api_seed, body, message):
    resp = await api_client.post(NOTES, data=body, headers={**bearer(ADMIN), "Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == message
    assert _count(api_seed, "customer_notes") == 0


async def test_api_notes_viewer_cannot_write_and_unknown_customer_is_404(api_client, api_seed):
    resp = await api_client.post(NOTES, json={"text": "hello"}, headers=bearer(VIEWER))
    assert resp.status == 403
    assert (await resp.json())["error"]["message"] == "this action needs the admin role"
    for method, url in (("get", "/api/v1/customers/nobody/notes"), ("post", "/api/v1/customers/nobody/notes"),
                        ("get", "/api/v1/customers/nobody/contacts"), ("post", "/api/v1/customers/nobody/contacts"),
                        ("get", "/api/v1/customers/nobody/handover")):
        resp = await getattr(api_client, method)(url, json={"text": "x", "name": "x"}, headers=bearer(ADMIN))
        assert resp.status == 404, url
        assert (await resp.json())["error"]["message"] == "no customer nobody"
    bad = await api_client.get("/api/v1/customers/Not_An_Id/notes", headers=bearer())
    assert bad.status == 400
    assert _count(api_seed, "customer_notes") == 0


# ------------------------------------------------------------------ contacts
async def test_api_contacts_add_update_list_and_remove(api_client, api_seed):
    body = {"name": "李馆长", "role": "馆长", "phone": "+86 21 6372 3500", "email": "li@museum.example",
            "wechat": "li_guanzhang"}
    created = await api_client.post(CONTACTS, json=body, headers=bearer(CSM_ADMIN))
    assert created.status == 201
    contact = (await created.json())["contact"]
    assert {k: contact[k] for k in body} == body
    assert (contact["actor"], contact["created_ms"], contact["note"]) == (CSM_PERSON, NOW_MS, "")

    again = await api_client.post(CONTACTS, json=body, headers=bearer(ADMIN))  # nothing differs: unchanged
    assert again.status == 200
    assert (await again.json()) == {"contact": contact, "created": False}

    moved = await api_client.post(CONTACTS, json={**body, "role": "副馆长"}, headers=bearer(ADMIN))
    assert moved.status == 200
    updated = (await moved.json())["contact"]
    assert (updated["id"], updated["role"], updated["actor"]) == (contact["id"], "副馆长", "ops-admin")

    await api_client.post(CONTACTS, json={"name": "Zhang IT", "email": "it@museum.example"}, headers=bearer(ADMIN))
    listed = await (await api_client.get(CONTACTS, headers=bearer(VIEWER))).json()
    assert [c["name"] for c in listed["items"]] == ["Zhang IT", "李馆长"] and listed["total"] == 2

    gone = await api_client.delete(f"{CONTACTS}/{contact['id']}", headers=bearer(ADMIN))
    assert (gone.status, await gone.json()) == (200, {"id": contact["id"], "removed": True})
    missing = await api_client.delete(f"{CONTACTS}/{contact['id']}", headers=bearer(ADMIN))
    assert missing.status == 404
    elsewhere = await api_client.delete(f"/api/v1/customers/kiwi-ktv/contacts/{listed['items'][0]['id']}",
                                        headers=bearer(ADMIN))
    assert elsewhere.status == 404  # another customer's contact id is not this customer's
    viewer = await api_client.delete(f"{CONTACTS}/{listed['items'][0]['id']}", headers=bearer(VIEWER))
    assert viewer.status == 403
    assert _count(api_seed, "customer_contacts") == 1


@pytest.mark.parametrize("body,message", [
    ({}, "name is required"),
    ({"name": "   "}, "name is required"),
    ({"name": "a\nb"}, "name must be one line"),
    ({"name": "x", "phone": "call me"}, "phone 'call me' may hold only digits, spaces and + - ( )"),
    ({"name": "x", "email": "nobody"}, "email 'nobody' is not an e-mail address"),
    ({"name": "x", "mobile": "1"}, "unknown field 'mobile'"),
    ({"name": 7}, "name must be a string"),
    ({"name": "x" * 101}, "name must be at most 100 characters"),
])
async def test_api_contacts_bad_input_is_a_clear_400_and_stores_nothing(api_client, api_seed, body, message):
    resp = await api_client.post(CONTACTS, json=body, headers=bearer(ADMIN))
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == message
    assert _count(api_seed, "customer_contacts") == 0


# ------------------------------------------------------------------ the handover
async def test_api_handover_holds_90_days_and_report_months(api_client, api_seed):
    conn = connect_store(api_seed.path)
    # an old transition (100 days ago) falls outside the 90 days; a first hour of usage in
    # Shanghai's 2026-09-01 (16:00 UTC on 08-31), before the robots' first window (60 days ago,
    # 2026-09-28), makes September the first report month
    alert = api_seed.alerts["acme_usage"]
    conn.execute("INSERT INTO alert_events (alert_id, ts_ms, from_state, to_state, actor) VALUES (?,?,?,?,?)",
                 (alert, NOW_MS - 100 * DAY_MS, None, "pending", "rules"))
    first_hour = 1_788_193_800_000 - 1_800_000  # 2026-08-31T16:00Z = 2026-09-01 00:00 in Shanghai
    conn.execute("INSERT INTO customer_hour (bucket_ms, metric, customer, total) VALUES (?,?,?,?)",
                 (first_hour, "usage.interactions", "acme-museum", 5))
    conn.close()
    await api_client.post(CONTACTS, json={"name": "李馆长"}, headers=bearer(ADMIN))
    await api_client.post(NOTES, json={"text": "交接：续约在二月"}, headers=bearer(CSM_ADMIN))

    out = await (await api_client.get("/api/v1/customers/acme-museum/handover", headers=bearer())).json()
    assert out["days"] == 90 and out["since_ms"] == NOW_MS - 90 * DAY_MS
    assert [c["name"] for c in out["contacts"]] == ["李馆长"]
    assert [(n["text"], n["author"]) for n in out["notes"]["items"]] == [("交接：续约在二月", CSM_PERSON)]
    assert out["timeline"] and all(e["ts_ms"] >= out["since_ms"] for e in out["timeline"])
    everything = (await (await api_client.get("/api/v1/customers/acme-museum/handover?days=366",
                                              headers=bearer())).json())["timeline"]
    assert len(everything) == len(out["timeline"]) + 1  # the 100-day-old one
    assert out["timeline_truncated"] is False
    assert out["first_data_ms"] == first_hour
    assert out["months"] == [{"month": "2026-11", "complete": False}, {"month": "2026-10", "complete": True},
                             {"month": "2026-09", "complete": True}]
    for bad in ("days=0", "days=367", "days=x"):
        resp = await api_client.get(f"/api/v1/customers/acme-museum/handover?{bad}", headers=bearer())
        assert resp.status == 400 and "days must be" in (await resp.json())["error"]["message"]


async def test_api_handover_first_data_is_the_robots_first_window_without_usage(api_client, api_seed):
    out = await (await api_client.get("/api/v1/customers/new-bank/handover", headers=bearer())).json()
    assert out["first_data_ms"] == NOW_MS - 60 * DAY_MS  # b-001's first window (no usage hours seeded)
    assert [m["month"] for m in out["months"]] == ["2026-11", "2026-10", "2026-09"]


async def test_api_handover_without_data_has_no_report_months(api_client, api_seed):
    conn = connect_store(api_seed.path)
    conn.execute("INSERT INTO customers (id, name, scene, created_ms, updated_ms) VALUES "
                 "('fresh-mall', '新商场', 'mall', ?, ?)", (NOW_MS, NOW_MS))
    conn.close()
    out = await (await api_client.get("/api/v1/customers/fresh-mall/handover", headers=bearer())).json()
    assert out["months"] == [] and out["first_data_ms"] is None
    assert out["contacts"] == [] and out["notes"]["items"] == [] and out["events"] == []
