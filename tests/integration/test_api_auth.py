"""Must-show 2: no token, bad token, a viewer acting, an admin acting (recorded as the actor)."""

from __future__ import annotations

from tests.plugins.api import ADMIN, NOW_MS, VIEWER, bearer

READS = ["/api/v1/customers", "/api/v1/customers/acme-museum", "/api/v1/customers/acme-museum/robots",
         "/api/v1/robots/r-001", "/api/v1/alerts", "/api/v1/export/customers.csv"]


async def test_api_auth_no_token_is_401_on_every_read(api_client):
    for url in READS:
        resp = await api_client.get(url)
        assert resp.status == 401, url
        assert (await resp.json())["error"]["message"] == "missing bearer token"


async def test_api_auth_unknown_token_is_401(api_client):
    for header in ({"Authorization": "Bearer not-a-real-token"}, {"Authorization": f"Basic {VIEWER}"}):
        resp = await api_client.get("/api/v1/customers", headers=header)
        assert resp.status == 401


async def test_api_auth_viewer_reads_but_cannot_act(api_client, api_seed):
    for url in READS:
        assert (await api_client.get(url, headers=bearer(VIEWER))).status == 200, url
    alert = api_seed.alerts["ktv_offline"]
    for action, body in (("ack", {}), ("snooze", {"minutes": 60})):
        resp = await api_client.post(f"/api/v1/alerts/{alert}/{action}", json=body, headers=bearer(VIEWER))
        assert resp.status == 403
        assert "admin" in (await resp.json())["error"]["message"]
    state = (await (await api_client.get(f"/api/v1/alerts/{alert}", headers=bearer())).json())["state"]
    assert state == "firing"


async def test_api_auth_admin_acknowledges_as_itself(api_client, api_seed):
    alert = api_seed.alerts["ktv_offline"]
    resp = await api_client.post(f"/api/v1/alerts/{alert}/ack", json={"note": "called the store 已联系"},
                                 headers=bearer(ADMIN))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["state"] == "acknowledged"
    last = body["events"][-1]
    assert (last["from_state"], last["to_state"], last["actor"], last["note"]) == (
        "firing", "acknowledged", "ops-admin", "called the store 已联系")
    # the customer's timeline shows it too; a resolved alert cannot be acknowledged
    page = await (await api_client.get("/api/v1/customers/kiwi-ktv", headers=bearer())).json()
    assert page["timeline"][0]["actor"] == "ops-admin" and page["timeline"][0]["alert_id"] == alert
    resolved = await api_client.post(f"/api/v1/alerts/{api_seed.alerts['acme_usage']}/ack", headers=bearer(ADMIN))
    assert resolved.status == 409


async def test_api_auth_admin_snoozes_until_a_time(api_client, api_seed):
    alert = api_seed.alerts["sky_renewal"]
    resp = await api_client.post(f"/api/v1/alerts/{alert}/snooze", json={"minutes": 90}, headers=bearer(ADMIN))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["state"] == "snoozed" and body["snoozed_until_ms"] == NOW_MS + 90 * 60_000
    assert body["events"][-1]["actor"] == "ops-admin"
    for bad in ({}, {"minutes": 0}, {"minutes": 5, "until_ms": NOW_MS + 1}, {"until_ms": NOW_MS - 1},
                {"minutes": "5"}, {"hours": 1}, [1]):
        resp = await api_client.post(f"/api/v1/alerts/{alert}/snooze", json=bad, headers=bearer(ADMIN))
        assert resp.status == 400, bad
    resolved = api_seed.alerts["acme_usage"]
    resp = await api_client.post(f"/api/v1/alerts/{resolved}/snooze", json={"minutes": 5}, headers=bearer(ADMIN))
    assert resp.status == 409
    resp = await api_client.post("/api/v1/alerts/99999/ack", headers=bearer(ADMIN))
    assert resp.status == 404


async def test_api_auth_me_names_the_token(api_client):
    viewer = await (await api_client.get("/api/v1/me", headers=bearer(VIEWER))).json()
    admin = await (await api_client.get("/api/v1/me", headers=bearer(ADMIN))).json()
    # issue 14 added ``person`` ("" for a token that names none; tests/integration/test_api_handover.py)
    assert viewer == {"name": "cs-viewer", "role": "viewer", "person": ""}
    assert admin == {"name": "ops-admin", "role": "admin", "person": ""}
    assert (await api_client.get("/api/v1/me")).status == 401
