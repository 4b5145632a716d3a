"""Must-show 4: 10,000 bad messages interleaved with good ones.  Every good window is stored,
every bad message counted under its reason, the process stays up and its memory bounded."""

from __future__ import annotations

import time
import zlib
from collections import Counter

import msgpack
import psutil

from protocol.codec import Batch, Window, encode_batch, encode_status, make_status
from tests.plugins.collector import Fleet, raw_ledger, stored_ledger
from tests.support.procs import wait_until

DAY_MS = 86_400_000


def _bad_messages(fleet: Fleet, now_ms: int):
    """(reason, topic, payload) for each kind of garbage, cycling."""
    a, b = fleet.robots[0], fleet.robots[1]
    topic_a = f"robopulse/v1/{a.customer}/{a.id}/telemetry"

    def batch_doc(**over):
        doc = {"v": 1, "robot": a.id, "customer": a.customer, "site": a.site, "stream": a.stream,
               "sent": now_ms, "windows": [{"seq": 10**6, "t0": now_ms - 10_000, "t1": now_ms, "c": {"nav.tasks": 1}}]}
        doc.update(over)
        return msgpack.packb(doc)

    def window_batch(t0, t1):
        return encode_batch(Batch(a.id, a.customer, a.site, a.stream, now_ms, (Window(10**6, t0, t1, {"nav.tasks": 1}),)))

    kinds = [
        ("bad_msgpack", topic_a, b"\xc1\xc1 not msgpack at all"),
        ("missing_field", topic_a, msgpack.packb({"v": 1, "robot": a.id, "customer": a.customer, "site": a.site})),
        ("bad_version", topic_a, batch_doc(v=2)),
        ("not_a_map", topic_a, msgpack.packb([1, 2, 3])),
        ("inflate_too_large", topic_a, zlib.compress(b"\0" * (8 * 1024 * 1024), 9)),
        ("bad_zlib", topic_a, b"\x78\x9c" + b"\xff" * 40),
        ("topic_mismatch", f"robopulse/v1/{b.customer}/{b.id}/telemetry", window_batch(now_ms - 10_000, now_ms)),
        ("bad_topic", f"robopulse/v1/{a.customer}/Robot-A/telemetry", window_batch(now_ms - 10_000, now_ms)),
        ("bad_id", topic_a, batch_doc(site="Bad Site!")),
        ("future_window", topic_a, window_batch(now_ms + 2 * DAY_MS, now_ms + 2 * DAY_MS + 10_000)),
        ("too_old", topic_a, window_batch(now_ms - 800 * DAY_MS, now_ms - 800 * DAY_MS + 10_000)),
        ("bad_seq", topic_a, batch_doc(windows=[{"seq": 0, "t0": 1, "t1": 2, "c": {}}])),
        ("bad_state", f"robopulse/v1/{a.customer}/{a.id}/status",
         msgpack.packb({**make_status(a.id, a.customer, a.site, "online"), "state": "dancing"})),
    ]
    i = 0
    while True:
        yield kinds[i % len(kinds)]
        i += 1


def test_store_bad_messages_counted_good_ones_stored_memory_bounded(broker, start_collector, make_publisher):
    col = start_collector(broker, **{"collector.rejects_kept": 500})
    proc = psutil.Process(col.proc.pid)
    now_ms = int(time.time() * 1000)
    fleet = Fleet(6, base_ms=(now_ms - 21 * DAY_MS) // 10_000 * 10_000, seed=4)  # history 3 weeks old
    pub = make_publisher(broker.port)
    expected: Counter[str] = Counter()
    bad = _bad_messages(fleet, now_ms)
    oversize = b"\x80" + b"x" * (300 * 1024)
    rss_samples, writer_rss = [], []

    def sample() -> None:  # the main process validates; the writer process stores
        rss_samples.append(proc.memory_info().rss)
        writer_rss.extend(child.memory_info().rss for child in proc.children())
    for n in range(10_000):
        reason, topic, payload = next(bad)
        if n % 500 == 0:  # a few oversize ones (each 300 KiB)
            reason, topic, payload = "too_large", f"robopulse/v1/acme/{fleet.robots[2].id}/telemetry", oversize
        pub.publish(topic, payload)
        expected[reason] += 1
        if n % 25 == 0:
            pub.publish(*fleet.batch(n % len(fleet.robots), 3))
        if n % 2000 == 0:
            sample()
    r = fleet.robots[0]
    pub.publish(f"robopulse/v1/{r.customer}/{r.id}/status",
                encode_status(make_status(r.id, r.customer, r.site, "online", ts=now_ms, agent="1.0", scene="museum")))
    pub.wait_all(120)
    wait_until(lambda: col.window_count() == len(fleet.windows), 120, 0.2, "good windows stored", (col.proc,))
    total = sum(expected.values())
    wait_until(lambda: sum(col.metric("robopulse_ingest_rejects_total", f'reason="{k}"') for k in expected) == total,
               120, 0.5, "every reject counted", (col.proc,))
    for reason, count in expected.items():
        assert col.metric("robopulse_ingest_rejects_total", f'reason="{reason}"') == count, reason
    col.proc.check_alive()
    with col.db_read() as conn:
        want = {k: v for k, v in fleet.ledger.items() if v}
        assert stored_ledger(conn) == want
        assert raw_ledger(conn) == want
        kept = conn.execute("SELECT COUNT(*), COUNT(DISTINCT reason) FROM rejects").fetchone()
        assert kept[0] <= 500 and kept[1] >= 1
        assert conn.execute("SELECT state, scene, agent_version FROM robots WHERE id = ?", (r.id,)).fetchone() \
            == ("online", "museum", "1.0")
    sample()
    assert max(rss_samples) < 250 * 1024 * 1024, rss_samples
    assert writer_rss and max(writer_rss) < 200 * 1024 * 1024, writer_rss
