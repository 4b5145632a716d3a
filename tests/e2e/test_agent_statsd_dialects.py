"""Issue 17, finding 8 and the StatsD hardening: the StatsD clients robot teams really use (the
``statsd`` library and Datadog's ``DogStatsd``) send to a running agent; what arrives on a real
Mosquitto, and what ``robopulse agent status`` shows, is checked."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections import Counter

import pytest
import statsd
from datadog.dogstatsd import DogStatsd

from tests.support.procs import robopulse_cmd, wait_until


def totals(sub) -> Counter:
    total: Counter = Counter()
    for w in sub.windows().values():
        total.update(w.c)
    return total


def gauges(sub, name) -> list[float]:
    return [w.g[name] for w in sub.windows().values() if name in w.g]


def online(sub, proc):
    wait_until(lambda: any(s["state"] == "online" for s, _ in sub.statuses()), 30, message="online status",
               procs=(proc,))


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def agent_status(path) -> dict:
    result = subprocess.run(robopulse_cmd("agent", "status", "--config", str(path), "--json"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_agent_counts_timers_and_sets_from_the_statsd_library(broker, agent_config, start_agent, make_subscriber):
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    online(sub, proc)
    client = statsd.StatsClient(*host_port(cfg["ingest"]["statsd"]))
    for ms in (120, 80, 250, 50):
        client.timing("tts.latency_ms", ms)
        client.incr("tts.requests")
        time.sleep(0.01)
    with client.pipeline() as pipe:  # several lines in one datagram
        pipe.timing("nav.plan_ms", 12.5)
        pipe.incr("nav.tasks", 2)
    for visitor in ("a", "b", "a", "c", "b"):
        client.set("usage.visitors", visitor)

    def arrived():
        got = totals(sub)
        return got["tts.latency_ms.count"] == 4 and got["nav.plan_ms.count"] == 1 and got
    got = wait_until(arrived, 30, message="the timer summaries on the broker", procs=(proc,))
    assert got["tts.requests"] == 4 and got["nav.tasks"] == 2
    assert got["tts.latency_ms.sum"] == 500 and got["nav.plan_ms.sum"] in (12, 13)
    assert max(gauges(sub, "tts.latency_ms.max")) == 250.0
    # a set counts distinct values per window: 3 visitors, however the 5 sends fell into windows
    assert 3 <= got["usage.visitors"] <= 5
    assert not got["agent.statsd_bad_lines"]
    status = wait_until(lambda: (s := agent_status(path))["summaries"] and s, 10, message="status summaries")
    latency = next(s for s in status["summaries"] if s["name"] == "tts.latency_ms")
    assert latency == {"name": "tts.latency_ms", "count": 4, "sum": 500, "max": 250.0}
    assert status["statsd"]["bad_lines_total"] == 0
    tts = next(s for s in status["subsystems"] if s["name"] == "tts")
    assert tts["counts"] == {"tts.requests": 4}  # the summary's counters are shown as a timer, not here
    text = subprocess.run(robopulse_cmd("agent", "status", "--config", str(path)), capture_output=True,
                          text=True, timeout=30).stdout
    assert "tts.latency_ms" in text and "n=4 avg=125.0 max=250" in text


def test_agent_keeps_tagged_lines_from_the_datadog_client(broker, agent_config, start_agent, make_subscriber):
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    online(sub, proc)
    host, port = host_port(cfg["ingest"]["statsd"])
    dog = DogStatsd(host=host, port=port, disable_telemetry=True, disable_buffering=True)
    for skill in ("guide", "guide", "qa", None):
        dog.increment("usage.wakeups", tags=["site:s1"] + ([f"skill:{skill}"] if skill else []))
    dog.increment("asr.unrecognized", tags=["lang:zh"])
    dog.increment("asr.unrecognized", tags=["lang:en"])
    dog.increment("asr.requests", 10, tags=["lang:zh"])
    dog.histogram("asr.audio_ms", 900, tags=["lang:zh"])
    dog.distribution("asr.audio_ms", 1100)
    dog.timing("asr.decode_ms", 40)
    dog.gauge("net.rtt_ms", 42, tags=["iface:wlan0"])
    dog.flush()
    # Telegraf's StatsD input dialect, tags in the name
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"usage.interactions,skill=lead-way,site=s1:3|c", (host, port))

    def arrived():
        got = totals(sub)
        return got["usage.wakeups"] == 4 and got["usage.interactions"] == 3 and got["asr.audio_ms.count"] == 2 \
            and got
    got = wait_until(arrived, 30, message="the tagged counts on the broker", procs=(proc,))
    assert got["asr.unrecognized"] == 2 and got["asr.requests"] == 10
    # the catalogue maps a skill tag on a usage counter: it also counts that skill
    assert got["skill.guide"] == 2 and got["skill.qa"] == 1 and got["skill.lead_way"] == 3
    assert got["asr.audio_ms.sum"] == 2000 and got["asr.decode_ms.count"] == 1
    assert max(gauges(sub, "asr.audio_ms.max")) == 1100.0 and 42.0 in gauges(sub, "net.rtt_ms")
    # every other tag is ignored and counted: 4 site, 3 lang, 1 on the histogram, 1 iface, 1 Telegraf site
    assert got["agent.statsd_ignored_tags"] == 4 + 3 + 1 + 1 + 1
    assert not got["agent.statsd_bad_lines"]
    status = agent_status(path)
    assert status["statsd"]["ignored_tags_total"] == 10 and status["statsd"]["bad_lines_total"] == 0


def test_agent_one_bad_byte_drops_one_line_not_the_datagram(broker, agent_config, start_agent, make_subscriber):
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    online(sub, proc)
    datagram = b"asr.requests:5|c\nasr.unrecognized:1\xff\xfe|c\nusage.wakeups:2|c\n"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(datagram, host_port(cfg["ingest"]["statsd"]))
    got = wait_until(lambda: (g := totals(sub))["usage.wakeups"] == 2 and g, 30, message="the good lines",
                     procs=(proc,))
    assert got["asr.requests"] == 5 and got["agent.statsd_bad_lines"] == 1 and not got["asr.unrecognized"]
    status = agent_status(path)
    assert status["statsd"]["lines_total"] == 3 and status["statsd"]["bad_lines_total"] == 1


@pytest.mark.parametrize("address", ["0.0.0.0:8125", "192.168.1.20:8125", "[::]:8125"])
def test_agent_refuses_a_statsd_bind_off_loopback(agent_config, start_agent, address):
    path, _ = agent_config(None, ingest={"statsd": address})
    check = subprocess.run(robopulse_cmd("agent", "check-config", "--config", str(path)), capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 2 and "ingest.statsd" in check.stdout + check.stderr
    assert "loopback" in check.stdout + check.stderr
    proc = start_agent(path)
    proc.popen.wait(30)
    assert proc.popen.returncode == 2, proc.output()


def test_collector_stores_the_agent_timer_summaries_as_ordinary_counters(broker, agent_config, start_agent,
                                                                         make_subscriber, start_collector):
    collector = start_collector(broker)
    sub = make_subscriber(broker.port)
    path, cfg = agent_config(broker)
    proc = start_agent(path)
    online(sub, proc)
    client = statsd.StatsClient(*host_port(cfg["ingest"]["statsd"]))
    for ms in (300, 100):
        client.timing("nav.plan_ms", ms)
    client.set("usage.visitors", "a")
    wait_until(lambda: totals(sub)["nav.plan_ms.count"] == 2, 30, message="the summary published", procs=(proc,))
    windows = sub.windows()
    lo, hi = min(w.t0 for w in windows.values()), max(w.t1 for w in windows.values())

    def stored():
        doc = collector.get_json(f"/api/v1/robots/r-1/counters?from={lo}&to={hi}")
        counters = doc.get("counters", doc)
        return counters.get("nav.plan_ms.count") == 2 and counters
    counters = wait_until(stored, 30, message="the summary counters at the collector", procs=(proc, collector.proc))
    assert counters["nav.plan_ms.sum"] == 400 and counters["usage.visitors"] == 1
