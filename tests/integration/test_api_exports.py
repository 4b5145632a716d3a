"""Must-show 5: the CSV exports read back with Python's csv module, Chinese text intact."""

from __future__ import annotations

import csv
import io

from collector.api.exports import ALERT_COLUMNS, CUSTOMER_COLUMNS, ROBOT_COLUMNS
from tests.plugins.api import CUSTOMERS, ROBOTS, bearer


async def fetch_csv(client, name, query=""):
    resp = await client.get(f"/api/v1/export/{name}.csv{query}", headers=bearer())
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{name}.csv"' in resp.headers["Content-Disposition"]
    raw = await resp.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


async def test_api_export_customers_keeps_chinese_names(api_client):
    rows = await fetch_csv(api_client, "customers")
    assert tuple(rows[0]) == CUSTOMER_COLUMNS
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert len(body) == len(CUSTOMERS)
    by_id = {r["id"]: r for r in body}
    assert by_id["acme-museum"]["name"] == "上海博物馆"
    assert by_id["kiwi-ktv"]["name"] == "欢乐KTV 朝阳店"
    assert by_id["kiwi-ktv"]["color"] == "red" and float(by_id["kiwi-ktv"]["score"]) == 35.25
    assert by_id["acme-museum"]["contract_end"] == "2027-02-28"
    assert by_id["kiwi-ktv"]["computed_at"] == "2026-11-27T19:59:55+08:00"  # the customer's local time
    assert by_id["new-bank"]["name"] == "'=招商银行"  # not run as a formula by Excel
    assert by_id["new-bank"]["score"] == ""


async def test_api_export_robots_has_subsystem_columns(api_client):
    rows = await fetch_csv(api_client, "robots", "?customer=kiwi-ktv")
    assert tuple(rows[0]) == ROBOT_COLUMNS
    body = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(body) == {r[0] for r in ROBOTS if r[1] == "kiwi-ktv"}
    assert body["k-001"]["asr"] == "crit" and body["k-001"]["customer_name"] == "欢乐KTV 朝阳店"
    assert body["k-002"]["state"] == "stale"


async def test_api_export_alerts_iso_dates(api_client, api_seed):
    rows = await fetch_csv(api_client, "alerts", "?state=firing")
    assert tuple(rows[0]) == ALERT_COLUMNS
    body = {int(r[0]): dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(body) == {api_seed.alerts["ktv_offline"], api_seed.alerts["sky_renewal"]}
    row = body[api_seed.alerts["ktv_offline"]]
    assert row["opened_at"] == "2026-11-27T19:00:00+08:00" and row["resolved_at"] == ""
    assert row["summary"].endswith("机器人") and row["customer_name"] == "欢乐KTV 朝阳店"
