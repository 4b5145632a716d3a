"""Small pure pieces of the API: SSE framing, CSV cells, action bodies, the single-flight cache."""

import threading
import time

import pytest

from collector.api.actions import ActionError, parse_body
from collector.api.cache import UsageCache
from collector.api.exports import iso, to_csv
from collector.feed.sse import format_event


def test_api_sse_event_splits_multiline_data():
    assert format_event(7, "alert", '{"a":1}\n{"b":2}') == b'id: 7\nevent: alert\ndata: {"a":1}\ndata: {"b":2}\n\n'


def test_api_csv_has_bom_crlf_and_defuses_formulas():
    body = to_csv(("id", "name", "n"), [{"id": "x", "name": "=SUM(A1)", "n": -3}, {"id": "y", "name": None}])
    assert body.startswith("\ufeff".encode())
    assert body.decode("utf-8-sig") == "id,name,n\r\nx,'=SUM(A1),-3\r\ny,,\r\n"
    assert iso(0) == "1970-01-01T00:00:00Z" and iso(None) == ""


@pytest.mark.parametrize("body", [{"minutes": 0}, {"minutes": True}, {"until_ms": 1, "minutes": 1}, {},
                                  {"note": 5, "minutes": 1}, {"extra": 1, "minutes": 1}, "x"])
def test_api_snooze_body_rejected(body):
    with pytest.raises(ActionError) as err:
        parse_body(body, "snooze")
    assert err.value.status == 400


def test_api_ack_body_accepts_nothing_or_a_note():
    assert parse_body(None, "ack") == {"note": ""}
    assert parse_body({"note": "好"}, "ack") == {"note": "好"}
    with pytest.raises(ActionError):
        parse_body({"minutes": 5}, "ack")


def test_api_usage_cache_computes_once_for_concurrent_callers():
    cache, calls = UsageCache(ttl_s=60), []

    def compute():
        calls.append(1)
        time.sleep(0.05)
        return {"value": len(calls)}

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.single_flight(("k",), compute)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(r == {"value": 1} for r in results)


def test_api_usage_cache_serves_old_value_while_refreshing_in_background():
    cache, started, release = UsageCache(ttl_s=0.3), threading.Event(), threading.Event()
    values = iter([{"v": 1}] + [{"v": 2}] * 1000)

    def compute():
        value = next(values)
        if value["v"] == 2:
            started.set()
            release.wait(5)
        return value

    assert cache.single_flight(("k",), compute) == {"v": 1}
    time.sleep(0.35)  # expired, but not yet twice the ttl old
    assert cache.single_flight(("k",), compute) == {"v": 1}  # at once, although the refresh is running
    assert started.wait(5)
    assert cache.single_flight(("k",), compute) == {"v": 1}  # a second caller does not start another
    release.set()
    deadline = time.monotonic() + 5
    while cache.single_flight(("k",), compute) != {"v": 2} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.single_flight(("k",), compute) == {"v": 2}


def test_api_usage_cache_recomputes_a_long_idle_value_before_answering():
    cache, values = UsageCache(ttl_s=0.05), iter([{"v": 1}, {"v": 2}])
    assert cache.single_flight(("k",), lambda: next(values)) == {"v": 1}
    time.sleep(0.15)  # more than twice the ttl
    assert cache.single_flight(("k",), lambda: next(values)) == {"v": 2}


def test_api_dashboard_open_states_are_the_alert_vocabulary():
    """The dashboard counts open alerts with the same set as collector/alerts/states.py OPEN."""
    import json
    import re
    from pathlib import Path

    from collector.alerts.states import OPEN
    from collector.dashboard.routes import STATIC

    found = re.search(r"^const OPEN_STATES = (\[.*\]);$", (Path(STATIC) / "app.js").read_text(), re.M)
    assert found is not None, "app.js has no OPEN_STATES constant"
    assert tuple(json.loads(found.group(1))) == OPEN
