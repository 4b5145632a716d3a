"""Every breakdown fact the health cycle writes is read back by the dashboard's catalogue
(``fact_patterns`` in collector/dashboard/static/messages.json), so a zh-CN page never shows an
English sentence: the real cycle over the real store, through an open venue, a closed one (robots
off before opening: "venue closed: no robot in service", which had no pattern), a dormant fleet,
a customer without robots, a fleet shut down cleanly and one onboarding."""

import json
import re
from pathlib import Path

from collector.store.sqlite import seed
from tests.plugins.health import DAY, HOUR, T, daily, evaluate, make_settings

CATALOGUE = json.loads((Path(__file__).parents[2] / "collector" / "dashboard" / "static" / "messages.json")
                       .read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_fact_of_the_cycle_has_a_pattern(store, fleet):
    busy = {"usage.interactions": 900, "usage.foot_traffic": 3000}
    live = []  # robots reporting right now (a window each minute of the last 10)
    for cid in ("open-a", "open-b"):
        for rid in fleet(cid, 2):
            daily(store, rid, T - 30 * DAY, 30, busy)
            live.append(rid)
    # robots off at 10:00 Beijing, the venue opening at noon: closed, not down
    for rid in fleet("closed", 2, hours="12:00-20:00", state="offline", reason="lwt"):
        daily(store, rid, T - 30 * DAY, 30, busy)
    # on and counting passers-by for weeks, nobody talking to them
    for rid in fleet("dormant", 2, scene="bank"):
        daily(store, rid, T - 30 * DAY, 30, {"usage.foot_traffic": 2000})
        live.append(rid)
    fleet("empty", 0, scene="ktv")
    for rid in fleet("shut", 1, scene="ktv", state="offline", reason="shutdown"):
        daily(store, rid, T - 3 * DAY, 3, busy)
    for rid in fleet("new", 2, scene="scenic", first_seen=T - 9 * DAY):
        daily(store, rid, T - 9 * DAY, 9, lambda d: busy if d < T - 5 * DAY else {})
    now = T + 2 * HOUR
    seed.write_windows(store, [(rid, now - k * 60_000, now - (k - 1) * 60_000, {"usage.foot_traffic": 1})
                               for rid in live for k in range(10, 0, -1)])
    evaluate(store, now, make_settings())

    patterns = CATALOGUE["fact_patterns"]
    hit: dict[str, set[str]] = {}
    for cid, breakdown in store.execute("SELECT customer, breakdown FROM customer_health ORDER BY customer"):
        for part in json.loads(breakdown):
            keys = [k for k, (source, _) in patterns.items() if re.fullmatch(source, part["fact"])]
            assert len(keys) == 1, (cid, part["measure"], part["fact"], keys)
            source, names = patterns[keys[0]]
            assert re.compile(source).groups == len(names)
            assert sorted(names) == sorted(PLACEHOLDER.findall(CATALOGUE["messages"]["zh-CN"][keys[0]]))
            hit.setdefault(cid, set()).add(keys[0])
    assert "fact.reliability_closed" in hit["closed"]
    assert "fact.reliability_none" in hit["empty"] and "fact.reliability_none" in hit["shut"]
    assert "fact.reliability" in hit["open-a"] and "fact.reliability" in hit["dormant"]
    assert len(set().union(*hit.values())) >= 7  # the variety of sentences this fleet gives
    facts = json.loads(store.execute("SELECT facts FROM customer_health WHERE customer = 'dormant'").fetchone()[0])
    assert facts["dormant"]
