"""Issue 13 in customers.csv: per-robot usage over robot-days in service, seed 002's three figures
per subsystem, the skill mix, and timestamps in the customer's own local time."""

from __future__ import annotations

import json

from tests.integration.test_api_exports import fetch_csv

FACTS = {
    "timezone": "Europe/Berlin",
    "usage": {"interactions_per_robot_day_30d": 1500.0, "robot_days_30d": 20},
    "anomalies": {s: {"robots": 0, "count": 0, "rate": 0.0} for s in ("network", "vision", "touch", "nav", "asr",
                                                                       "nlp", "tts")},
    "skills": {"guide": 0.6, "sign_in": 0.3, "karaoke": 0.1},
}
FACTS["anomalies"]["network"] = {"robots": 2, "count": 7, "rate": 0.5}


async def test_api_export_customers_carries_anomalies_skills_and_local_times(api_client, api_seed):
    conn = api_seed.connect()
    conn.execute("UPDATE customer_health SET facts = ? WHERE customer = 'acme-museum'", (json.dumps(FACTS),))
    conn.close()
    rows = await fetch_csv(api_client, "customers")
    by_id = {r["id"]: r for r in (dict(zip(rows[0], r)) for r in rows[1:])}
    acme = by_id["acme-museum"]
    assert acme["timezone"] == "Europe/Berlin"
    assert acme["computed_at"] == "2026-11-27T12:59:55+01:00"        # 11:59:55 UTC, Berlin winter time
    assert (acme["interactions_per_robot_day_30d"], acme["robot_days_30d"]) == ("1500.0", "20")
    assert (acme["network_robots_with_anomalies"], acme["network_anomaly_count"],
            acme["network_anomaly_rate"]) == ("2", "7", "0.5")
    assert acme["asr_robots_with_anomalies"] == "0"
    assert (acme["skill_guide"], acme["skill_sign_in"], acme["skill_delivery"], acme["skill_other"]) == \
        ("0.6", "0.3", "0.0", "0.1")
    assert by_id["new-bank"]["skill_guide"] == "" and by_id["new-bank"]["timezone"] == "Asia/Shanghai"
