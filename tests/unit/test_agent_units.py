"""Agent logic without I/O: config table, window alignment, StatsD parsing, status words, backoff."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import OPTIONS, build_config, load_config
from agent.publisher import backoff_s
from agent.samplers.network import NetworkSampler
from agent.samplers.statsd import BAD, IGNORED_TAGS, StatsdLine, StatsdListener, parse_line
from agent.samplers.system import SystemSampler
from agent.status import judge
from agent.windows import MAX_SET_MEMBERS, Accumulator, WindowClock
from protocol.codec import ProtocolError, decode_batch
from protocol.config import ConfigError

MIN = {"agent": {"robot_id": "r-1", "customer_id": "acme"}}


def write(tmp_path, text):
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- config

def test_config_defaults_and_env_override(tmp_path):
    path = write(tmp_path, '[agent]\nrobot_id = "r-1"\ncustomer_id = "acme"\n')
    config = load_config(path, env={"ROBOPULSE_MQTT_PORT": "8883", "ROBOPULSE_AGENT_INTERVAL_S": "5"})
    assert config.mqtt.port == 8883 and config.agent.interval_s == 5
    assert config.agent.publish_interval_s == 60 and config.ingest.statsd == "127.0.0.1:8125"
    assert config.buffer.max_windows == 60480 and config.status.listen == ""


@pytest.mark.parametrize("text,key", [
    ('[agent]\ncustomer_id = "acme"\n', "agent.robot_id"),
    ('[agent]\nrobot_id = "R 1"\ncustomer_id = "acme"\n', "agent.robot_id"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\ninterval_s = 0\n', "agent.interval_s"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[mqtt]\nport = "x"\n', "mqtt.port"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[mqtt]\nprot = 1\n', "mqtt.prot"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[status]\nlisten = "0.0.0.0:8126"\n', "status.listen"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[ingest]\nstatsd = "nonsense"\n', "ingest.statsd"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[ingest]\nstatsd = "0.0.0.0:8125"\n', "ingest.statsd"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[mqtt]\ntls_cert = "/c"\n', "mqtt.tls_key"),
    ('[agent]\nrobot_id = "r"\ncustomer_id = "acme"\n[buffer]\nmax_windows = -1\n', "buffer.max_windows"),
    ('[agent\n', "file"),
])
def test_config_bad_value_names_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text), env={})
    assert exc.value.key == key


def test_config_status_listen_accepts_loopback_only():
    assert build_config({**MIN, "status": {"listen": "127.0.0.1:8126"}}).status.listen == "127.0.0.1:8126"
    assert build_config({**MIN, "status": {"listen": "[::1]:8126"}}).status.listen == "[::1]:8126"
    with pytest.raises(ConfigError):
        build_config({**MIN, "status": {"listen": "192.168.1.5:8126"}})


def test_config_every_option_has_a_doc():
    assert all(o.doc for o in OPTIONS)


# ---------------------------------------------------------------- windows

def test_windows_align_to_interval_multiples():
    clock = WindowClock(10, start_ms=1_000_003_500)
    assert clock.due(1_000_009_999) == []
    assert clock.due(1_000_010_000) == [(1_000_003_500, 1_000_010_000, False)]
    assert clock.due(1_000_020_001) == [(1_000_010_000, 1_000_020_000, False)]


def test_windows_jump_over_whole_windows_makes_one_gap_window():
    clock = WindowClock(10, start_ms=0)
    spans = clock.due(95_000)
    assert spans == [(0, 10_000, False), (10_000, 90_000, True)]
    assert clock.due(100_000) == [(90_000, 100_000, False)]


def test_windows_jump_of_more_than_a_day_is_a_clock_step_without_gap_window():
    clock = WindowClock(10, start_ms=0)  # a robot that booted in 1970, then NTP set the clock
    now = 1_800_000_005_000
    assert clock.due(now) == [(0, 10_000, False)]
    assert clock.steps == 1 and clock.t0 == 1_800_000_000_000
    assert clock.due(now + 10_000) == [(1_800_000_000_000, 1_800_000_010_000, False)]


def test_windows_clock_stepped_back_reanchors_the_window_in_progress():
    clock = WindowClock(10, start_ms=1_800_000_003_000)
    assert clock.due(1_700_000_000_500) == [] and clock.steps == 1
    assert clock.due(1_700_000_010_000) == [(1_700_000_000_500, 1_700_000_010_000, False)]


def test_windows_cut_closes_partial_window():
    clock = WindowClock(10, start_ms=0)
    assert clock.cut(4_000) == (0, 4_000)
    assert clock.due(10_000) == [(4_000, 10_000, False)]


def test_accumulator_caps_distinct_metrics():
    acc = Accumulator(max_metrics=2)
    assert acc.add("a.b") and acc.gauge("a.c", 1.0)
    assert not acc.add("a.d") and acc.add("a.b", 2)
    assert acc.take() == ({"a.b": 3}, {"a.c": 1.0})
    assert acc.take() == ({}, {})


# ---------------------------------------------------------------- statsd

@pytest.mark.parametrize("line,expected", [
    ("asr.unrecognized:1|c", ("asr.unrecognized", "c", (1.0,))),
    ("usage.wakeups:3|c|@0.5", ("usage.wakeups", "c", (6.0,), 0.5)),
    ("net.rtt_ms:35.5|g", ("net.rtt_ms", "g", (35.5,))),
    ("tts.latency_ms:120.000000|ms", ("tts.latency_ms", "ms", (120.0,))),
    ("a.h:3|h|#x", ("a.h", "h", (3.0,), 1.0, (("x", None),))),
    ("a.d:4:5|d|@0.5", ("a.d", "d", (4.0, 5.0), 0.5)),
    ("usage.visitors:abc|s", ("usage.visitors", "s", ("abc",))),
    ("usage.wakeups:1|c|#site:s1,skill:guide", ("usage.wakeups", "c", (1.0,), 1.0, (("site", "s1"), ("skill", "guide")))),
    ("usage.wakeups,site=s1,skill=guide:1|c", ("usage.wakeups", "c", (1.0,), 1.0, (("site", "s1"), ("skill", "guide")))),
    ("asr.requests:1|c|@0.5|#a:b|c:abc123|T1656581400", ("asr.requests", "c", (2.0,), 0.5, (("a", "b"),))),
    ("asr.requests:-1|c", None), ("a.t:-5|ms", None), ("Bad.Name:1|c", None), ("nocolon", None),
    ("asr.requests:x|c", None), ("asr.requests:1|c|@2", None), ("asr.requests:1|c|0.5", None),
    ("asr.requests:nan|g", None), ("asr.requests:1", None), ("plain:1|c", None), ("a.b:1|q", None),
    ("a.b,notag:1|c", None), ("a.b:1|c|#", None), ("a.b:|s", None), ("_e{5,4}:title|text", None),
])
def test_statsd_parse_line(line, expected):
    assert parse_line(line) == (expected if expected is None else StatsdLine(*expected))


def listener_on(acc):
    listener = StatsdListener.__new__(StatsdListener)
    listener.acc, listener.lines_total, listener.bad_lines_total, listener.ignored_tags_total = acc, 0, 0, 0
    return listener


def test_statsd_bad_lines_are_counted_and_ignored():
    acc = Accumulator()
    listener = listener_on(acc)
    listener.feed(b"asr.requests:2|c\ngarbage\n\nasr.requests:1|c|@0.25\nx:1|q")
    listener.feed(b"\xff\xfe")
    counts, _ = acc.take()
    assert counts == {"asr.requests": 6, BAD: 3}
    assert listener.bad_lines_total == 3 and listener.lines_total == 5


def test_statsd_one_bad_byte_costs_one_line_not_the_datagram():
    acc = Accumulator()
    listener = listener_on(acc)
    listener.feed(b"asr.requests:2|c\nasr.unrecognized:1\xff|c\nusage.wakeups:1|c\n")
    counts, _ = acc.take()
    assert counts == {"asr.requests": 2, "usage.wakeups": 1, BAD: 1}
    assert listener.bad_lines_total == 1 and listener.lines_total == 3


def test_statsd_lines_lose_ascii_whitespace_only():
    """Around a line only ASCII whitespace goes (as bytes.strip() did when each line was decoded on
    its own); a Unicode space such as U+0085 stays and makes the name invalid."""
    acc = Accumulator()
    listener = listener_on(acc)
    listener.feed(b" \tasr.requests:2|c\r\n\x0basr.requests:1|c\x0c\n\xc2\x85usage.wakeups:1|c\nusage.wakeups:1|c\xe2\x80\x83")
    counts, _ = acc.take()
    assert counts == {"asr.requests": 3, BAD: 2}
    assert listener.bad_lines_total == 2 and listener.lines_total == 4


def test_statsd_summaries_sets_and_tags_become_window_counters_and_gauges():
    acc = Accumulator()
    listener = listener_on(acc)
    listener.feed(b"tts.latency_ms:120|ms\ntts.latency_ms:80.4|ms\ntts.latency_ms:100|ms|@0.5\n"
                  b"usage.visitors:a|s\nusage.visitors:b|s\nusage.visitors:a|s\n"
                  b"usage.wakeups:1|c|#site:s1,skill:guide\nusage.wakeups,skill=qa:2|c\nnet.rtt_ms:3|g|#k:v")
    counts, gauges = acc.take()
    assert counts == {"tts.latency_ms.count": 4, "tts.latency_ms.sum": 400, "usage.visitors": 2,
                      "usage.wakeups": 3, "skill.guide": 1, "skill.qa": 2, IGNORED_TAGS: 2}
    assert gauges == {"tts.latency_ms.max": 120.0, "net.rtt_ms": 3.0}
    assert listener.ignored_tags_total == 2 and listener.bad_lines_total == 0
    assert acc.take() == ({}, {})


def test_accumulator_summary_takes_three_slots_and_sets_are_bounded():
    acc = Accumulator(max_metrics=5)
    assert acc.add("a.b") and acc.observe("a.t", 1.0)
    assert not acc.observe("a.u", 1.0) and acc.set_add("a.s", "x")
    assert not acc.add("a.c")
    acc.take()
    for i in range(MAX_SET_MEMBERS):
        acc.set_add("a.s", str(i))
    assert not acc.set_add("a.s", "one more") and acc.set_add("a.s", "0")
    assert acc.take()[0] == {"a.s": MAX_SET_MEMBERS}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_statsd_feed_never_raises(data):
    listener_on(Accumulator()).feed(data)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="abz._,=:|#@-0123456789.egmsdhcT\xff ", max_size=40), max_size=8))
def test_statsd_lines_in_any_dialect_never_raise_and_keep_counts_valid(lines):
    acc = Accumulator()
    listener = listener_on(acc)
    listener.feed("\n".join(lines).encode("utf-8", "surrogatepass"))
    counts, gauges = acc.take()
    assert all(isinstance(v, int) and 0 <= v <= 10**9 for v in counts.values())
    assert listener.bad_lines_total == counts.get(BAD, 0) <= listener.lines_total


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_codec_decode_zlib_looking_bytes_raise_only_protocol_error(data):
    try:
        decode_batch(b"\x78" + data)
    except ProtocolError:
        pass


# ---------------------------------------------------------------- samplers with a fake OS

class FakePs:
    def __init__(self):
        self.errors = 0

    def cpu_percent(self, interval=None):
        return 12.4

    def virtual_memory(self):
        return SimpleNamespace(percent=40.6)

    def disk_usage(self, path):
        return SimpleNamespace(percent=71.2)

    def boot_time(self):
        return 1000.0

    def sensors_temperatures(self):
        return {"cpu": [SimpleNamespace(current=55.2), SimpleNamespace(current=61.7)]}

    def sensors_battery(self):
        return None

    def net_io_counters(self):
        return SimpleNamespace(errin=self.errors, errout=0, dropin=1, dropout=0)


def test_system_sampler_reports_integer_gauges_once_a_minute():
    sampler = SystemSampler(ps=FakePs(), clock_s=lambda: 4600.0)
    full = {"sys.cpu_pct": 12, "sys.mem_pct": 41, "sys.disk_pct": 71, "sys.uptime_s": 3600, "sys.temp_c": 62}
    assert sampler.sample(60_000, 70_000).gauges == full  # the first window always has everything
    assert sampler.sample(70_000, 80_000).gauges == {}
    assert sampler.sample(110_000, 120_000).gauges == full  # crosses the minute


def test_network_sampler_counts_nic_error_deltas_and_link_report():
    ps = FakePs()
    link = SimpleNamespace(link_report=lambda: (1, 4_000, 35.4))
    sampler = NetworkSampler(link=link, ps=ps)
    ps.errors = 5
    sample = sampler.sample(0, 10_000)
    assert sample.counts == {"net.errors": 5, "net.disconnects": 1, "net.offline_s": 4}
    assert sample.gauges == {"net.rtt_ms": 35}


def test_network_sampler_probe_counts_offline_episode():
    sampler = NetworkSampler(probe="127.0.0.1:1", ps=FakePs(), timeout_s=0.5)
    sampler._up = True
    first = sampler.sample(0, 10_000)
    second = sampler.sample(10_000, 20_000)
    assert first.counts["net.disconnects"] == 1 and first.counts["net.offline_s"] == 10
    assert second.counts["net.disconnects"] == 0 and second.counts["net.offline_s"] == 10


# ---------------------------------------------------------------- status words, backoff

def test_status_judge_rate_with_threshold():
    assert judge("asr", {"asr.requests": 100, "asr.unrecognized": 3}, 3600) == \
        ("OK", "asr.unrecognized 3/100 = 3.0% < warn 5%")
    word, why = judge("asr", {"asr.requests": 100, "asr.unrecognized": 8}, 3600)
    assert word == "WARN" and "warn 5%" in why
    word, why = judge("asr", {"asr.requests": 100, "asr.misrecognized": 30}, 3600)
    assert word == "CRIT" and "crit 20%" in why


def test_status_judge_offline_share_and_per_hour():
    assert judge("network", {"net.offline_s": 720}, 3600)[0] == "CRIT"
    assert judge("network", {"net.disconnects": 4}, 3600) == ("WARN", "net.disconnects 4/h >= warn 3/h")
    assert judge("touch", {}, 3600) == ("OK", "no errors")


def test_backoff_grows_with_jitter_between_1_and_60_s():
    assert backoff_s(1, 0.0) == 0.5 and backoff_s(1, 1.0) == 1.5  # the first retry is jittered too
    assert backoff_s(3, 0.0) == 2 and backoff_s(3, 1.0) == 6
    assert backoff_s(20, 0.0) == 30 and backoff_s(20, 1.0) == 60
    assert backoff_s(5, 1.0, max_s=2) == 2


def test_core_gauge_reported_by_the_robot_wins_over_the_agents_own(tmp_path):
    from agent.core import AgentCore
    from agent.samplers import Sample

    class LinkRtt:  # what the network sampler gives: the agent's own PUBLISH->PUBACK time
        def sample(self, t0_ms, t1_ms):
            return Sample({}, {"net.rtt_ms": 3, "sys.cpu_pct": 20})

    config = build_config({"agent": {"robot_id": "r-1", "customer_id": "acme", "state_dir": str(tmp_path)}})
    now = [1_800_000_000_000]
    core = AgentCore(config, clock=lambda: now[0], sources=[LinkRtt()], synchronous="OFF")
    try:
        core.tick()
        core.gauge("net.rtt_ms", 35)  # the robot's own software, e.g. `net.rtt_ms:35|g` over StatsD
        now[0] += 10_000
        (reported,) = core.tick()
        now[0] += 10_000
        (agent_only,) = core.tick()
    finally:
        core.close()
    assert reported.g == {"net.rtt_ms": 35, "sys.cpu_pct": 20}
    assert agent_only.g == {"net.rtt_ms": 3, "sys.cpu_pct": 20}
