"""Must-show 3: a site's network outage gives one site_outage alert, with the robot alerts it
explains grouped under it instead of notified one by one; it resolves when the site recovers."""

import json

from collector.store.sqlite import seed
from tests.plugins.health import T, alerts_of, evaluate, make_settings

MIN = 60_000
HOOK = {"webhooks": [{"name": "cs", "url": "http://127.0.0.1:9/hook"}]}


def test_site_outage_one_alert_grouping_robot_alerts(store, fleet):
    site_a = fleet("c1", 5, site="site-a")
    seed.add_robot(store, "c1-b0", "c1", "site-b", first_seen_ms=T, now_ms=T)
    seed.add_robot(store, "c1-b1", "c1", "site-b", first_seen_ms=T, now_ms=T)
    everyone = site_a + ["c1-b0", "c1-b1"]
    down = site_a[:4]                         # 4 of 5 robots at site-a lose the network
    outage = (T + 30 * MIN, T + 50 * MIN)
    settings = make_settings(notify=HOOK)
    for minute in range(0, 240):
        now = T + minute * MIN
        windows = []
        for rid in everyone:
            cut = rid in down and outage[0] <= now - MIN < outage[1]
            if not cut:
                windows.append((rid, now - MIN, now, {"usage.interactions": 3, "asr.requests": 5}))
        if now == outage[1] + MIN:  # back: the agents deliver what they buffered, offline seconds included
            for rid in down:
                windows += [(rid, t, t + MIN, {"net.offline_s": 60, "net.disconnects": 1 if t == outage[0] else 0})
                            for t in range(outage[0], outage[1], MIN)]
        seed.write_windows(store, windows)
        evaluate(store, now, settings)
        if minute == 45:  # in the middle of the outage
            (site,) = alerts_of(store, "site_outage")
            assert site["state"] == "firing" and site["subject"] == "c1/site-a"
            children = alerts_of(store, "robot_offline")
            assert sorted(a["robot"] for a in children) == sorted(down)
            assert all(a["parent_id"] == site["id"] for a in children)
    (site,) = alerts_of(store, "site_outage")
    assert site["state"] == "resolved"
    # robots of site-b and the fifth robot of site-a never alerted
    alerted = {a["robot"] for a in alerts_of(store) if a["robot"]}
    assert alerted <= set(down)
    # every robot alert about site-a is grouped under the one site alert, and all are resolved
    robot_alerts = [a for a in alerts_of(store) if a["rule"] != "site_outage"]
    assert robot_alerts and all(a["parent_id"] == site["id"] for a in robot_alerts)
    assert all(a["state"] == "resolved" for a in alerts_of(store))
    # notifications: the site's firing and resolved, nothing per robot
    sent = [json.loads(r[0]) for r in store.execute("SELECT payload FROM notifications ORDER BY id")]
    assert [(p["alert"]["rule"], p["event"]) for p in sent] == [("site_outage", "firing"),
                                                                 ("site_outage", "resolved")]
    assert sent[0]["alert"]["facts"]["down"] == sorted(down)
    assert sent[1]["alert"]["grouped_robots"] == sorted(down)
    assert "site-a" in sent[0]["text"] and sent[0]["text"].startswith("[CRITICAL] FIRING site_outage")
