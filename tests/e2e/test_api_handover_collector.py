"""Issues 14 and 15 inside the real collector process (its own TOML, a real broker, real HTTP): a
token that names a person in the config file writes a note and a contact, and they come back
attributed to that person through the handover, also after a restart."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from collector.store import open_store
from collector.store.records import CustomerRow
from tests.plugins.collector import new_collector, terminate_all

CSM = "csm-token-0001"
TOKENS = '\n[[http.tokens]]\ntoken = "csm-token-0001"\nrole = "admin"\nname = "wang-laptop"\nperson = "王芳"\n'


def call(col, method: str, path: str, body: dict | None = None, token: str = CSM) -> tuple[int, dict]:
    req = urllib.request.Request(col.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_api_handover_in_collector_notes_signed_by_the_configured_person(broker, tmp_path):
    col = new_collector(tmp_path / "collector", broker, extra_toml=TOKENS)
    store = open_store(col.db)  # the customer as import-customers stores it
    store.registry.upsert_customers([CustomerRow("acme", "上海博物馆", "museum", "high", "2026-01-01",
                                                 "2027-12-31", 100000.0, "alice")], 1)
    store.close()
    col.start()
    try:
        assert call(col, "GET", "/api/v1/me")[1] == {"name": "wang-laptop", "role": "admin", "person": "王芳"}
        status, body = call(col, "POST", "/api/v1/customers/acme/notes", {"text": "交接：馆长关注导览"})
        assert status == 201 and body["note"]["author"] == "王芳"
        status, body = call(col, "POST", "/api/v1/customers/acme/contacts", {"name": "李馆长", "phone": "021 1234"})
        assert status == 201 and body["contact"]["actor"] == "王芳"
        status, body = call(col, "POST", "/api/v1/customers/acme/notes", {"text": " "})
        assert (status, body["error"]["message"]) == (400, "text must not be blank")
        status, body = call(col, "POST", "/api/v1/customers/acme/notes", {"text": "x"}, token="viewer-token-123")
        assert status == 403
        col.restart()
        handover = col.get_json("/api/v1/customers/acme/handover")
        assert [(n["text"], n["author"]) for n in handover["notes"]["items"]] == [("交接：馆长关注导览", "王芳")]
        assert [(c["name"], c["phone"], c["actor"]) for c in handover["contacts"]] == [("李馆长", "021 1234", "王芳")]
    finally:
        terminate_all([col])
