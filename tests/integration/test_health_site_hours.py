"""Issue 13: opening hours per site.  A customer's site may keep hours of its own (import-customers'
optional ``site_hours``); its robots are judged on them, the other sites' on the customer's hours.
Real SQLite, the real importer, rollups written the way the store writes them."""

import pytest

import io
import json

from collector.store import customers
from collector.store.sqlite import seed
from collector.store.sqlite.registry import SqliteRegistryStore
from tests.plugins.health import HOUR, T, alerts_of, evaluate, history, make_settings

pytestmark = pytest.mark.sqlite_only("not yet on PostgreSQL: site hours are imported through the SQLite seed and SqliteRegistryStore")

MIN = 60_000
FAST = make_settings(alerts={rule: {"for_s": 0} for rule in ("site_outage", "subsystem_degraded")})
HEADER = "id,name,scene,tier,contract_start,contract_end,arr,csm,timezone,hours,site_hours\n"


def _import(path, text: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    (path.parent / "customers.csv").write_text(HEADER + text, encoding="utf-8")
    code = customers.import_file(str(path.parent / "customers.csv"), SqliteRegistryStore(str(path)), out, err, T)
    return code, err.getvalue()


def firing(conn, rule):
    return sorted(a["subject"] for a in alerts_of(conn, rule) if a["state"] == "firing")


def test_site_hours_judge_each_site_on_its_own_hours(store, tmp_path):
    # a mall open 10:00-22:00 (Beijing) whose cinema floor keeps 12:00-02:00
    code, err = _import(tmp_path / "store.db", "mall1,Mall,mall,,,,0,,Asia/Shanghai,10:00-22:00,cinema=12:00-02:00\n")
    assert code == 0, err
    for rid, site in (("m-a0", "atrium"), ("m-a1", "atrium"), ("m-c0", "cinema"), ("m-c1", "cinema")):
        seed.add_robot(store, rid, "mall1", site, scene="mall", first_seen_ms=T - 30 * 24 * HOUR, now_ms=T)
    # T is 08:00 Beijing: the atrium's robots work 10:00-22:00 and lose power at closing; the
    # cinema's robots last report at 22:00 and are lost at 22:50, while the cinema is open
    for rid in ("m-a0", "m-a1"):
        history(store, rid, T + 2 * HOUR, 12, {"usage.interactions": 30})
        seed.set_state(store, rid, "offline", "lost", T + 14 * HOUR)
    for rid in ("m-c0", "m-c1"):
        history(store, rid, T + 4 * HOUR, 10, {"usage.interactions": 30}, window_ms=10 * MIN)
        seed.set_state(store, rid, "offline", "lost", T + 14 * HOUR + 50 * MIN)
    evaluate(store, T + 15 * HOUR, FAST)  # 23:00 Beijing: the atrium is closed, the cinema open
    assert firing(store, "robot_offline") == ["m-c0", "m-c1"]
    assert firing(store, "site_outage") == ["mall1/cinema"]
    facts = json.loads(store.execute("SELECT facts FROM customer_health WHERE customer='mall1'").fetchone()[0])
    assert facts["venue"]["open"] is False and facts["site_venues"]["cinema"]["open"] is True


def test_site_hours_refused_with_the_line_and_reason(store, tmp_path):
    code, err = _import(tmp_path / "store.db", "mall1,Mall,mall,,,,0,,,10:00-22:00,cinema=12:00\n")
    assert code == 1 and "customers.csv:2: site_hours" in err
    assert store.execute("SELECT count(*) FROM customers").fetchone()[0] == 0  # nothing applied
