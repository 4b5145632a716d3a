"""A handover's worth of data for the seeded store of tests/plugins/api.py: contacts, notes and
commercial events for acme-museum, written through the store's own parts (as the API and
import-events write them), and a first hour of usage (before its robots' first window, 2026-09-28)
on 2026-09-18."""

from __future__ import annotations

from collector.store import open_store
from collector.store.handover import ContactRow
from collector.store.records import EventRow

from tests.plugins.api import CSM_PERSON, DAY_MS, connect_store

CONTACTS = [ContactRow("acme-museum", "李馆长", "馆长", "+86 21 6372 3500", "li@museum.example", "li_guanzhang",
                       "续约决策人"),
            ContactRow("acme-museum", "Zhang Wei", "IT", "", "zhang.wei@museum.example", "", "")]
NOTES = ["新馆长关注导览数据，续约谈判在二月。", "Robot r-002 moved to hall A after the floor change."]
EVENTS = [EventRow("acme-museum", "2026-03-01", "expansion", 20000.0, 1, "", None, "hall B opened")]
#: 2026-09-18, about 70 days before the seed's now: report months September to November
FIRST_USAGE_MS = 1_789_689_600_000


def seed_handover(seed) -> None:
    store = open_store(seed.path)
    try:
        for i, row in enumerate(CONTACTS):
            store.handover.put_contact(row, CSM_PERSON, seed.now_ms - (10 - i) * DAY_MS)
        for i, text in enumerate(NOTES):
            store.handover.add_note("acme-museum", text, CSM_PERSON if i == 0 else "ops-admin",
                                    "wang-fang-laptop" if i == 0 else "ops-admin", seed.now_ms - (5 - i) * DAY_MS)
        store.registry.add_events(EVENTS, "wang.fang", "import", seed.now_ms - 200 * DAY_MS)
    finally:
        store.close()
    conn = connect_store(seed.path)
    conn.execute("INSERT INTO customer_hour (bucket_ms, metric, customer, total) VALUES (?,?,?,?)"
                 " ON CONFLICT DO NOTHING",
                 (FIRST_USAGE_MS, "usage.interactions", "acme-museum", 12))
    conn.close()
