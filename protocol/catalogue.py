"""The metric catalogue: one table that feeds validation, health, docs and the simulator.

Each row says what a metric counts, which subsystem it belongs to, and the denominator that
turns an error count into a rate.  A denominator is another metric's name, or the special
``WINDOW_SECONDS`` (the metric is a duration inside the window, e.g. seconds offline), or
``None`` (the metric is judged per hour, not as a rate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COUNTER = "counter"
GAUGE = "gauge"
WINDOW_SECONDS = "@window_s"

METRIC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

#: subsystems that carry a health state, in display order
HEALTH_SUBSYSTEMS = ("network", "vision", "touch", "nav", "asr", "nlp", "tts")


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    subsystem: str
    kind: str
    unit: str
    denominator: str | None
    description: str
    zh: str
    is_error: bool = False


def _m(name, subsystem, kind, unit, denominator, description, zh, is_error=False):
    return Metric(name, subsystem, kind, unit, denominator, description, zh, is_error)


CATALOGUE: tuple[Metric, ...] = (
    # network
    _m("net.disconnects", "network", COUNTER, "episodes", None,
       "connectivity lost episodes (probe failed after success)", "网络断开次数", True),
    _m("net.offline_s", "network", COUNTER, "s", WINDOW_SECONDS,
       "seconds without connectivity inside the window", "网络离线时长", True),
    _m("net.errors", "network", COUNTER, "errors", None,
       "NIC errors and drops", "网络异常次数", True),
    _m("net.rtt_ms", "network", GAUGE, "ms", None,
       "round-trip time of the connectivity probe", "网络延迟"),
    # vision
    _m("vision.face_attempts", "vision", COUNTER, "attempts", None,
       "face recognition attempts", "人脸识别次数"),
    _m("vision.face_unrecognized", "vision", COUNTER, "faces", "vision.face_attempts",
       "faces not recognised", "人脸未识别数", True),
    _m("vision.face_errors", "vision", COUNTER, "errors", "vision.face_attempts",
       "face recognition errors", "人脸识别错误数", True),
    # touch
    _m("touch.taps", "touch", COUNTER, "taps", None, "touch screen taps", "触摸次数"),
    _m("touch.no_response", "touch", COUNTER, "taps", "touch.taps",
       "taps the screen did not respond to", "触摸无响应次数", True),
    _m("touch.wrong_command", "touch", COUNTER, "taps", "touch.taps",
       "taps that ran the wrong command", "触摸指令错误次数", True),
    # navigation
    _m("nav.tasks", "nav", COUNTER, "tasks", None, "navigation tasks started or attempted", "导航任务数"),
    _m("nav.start_failures", "nav", COUNTER, "tasks", "nav.tasks",
       "navigation failed to start", "导航无法启动次数", True),
    _m("nav.interruptions", "nav", COUNTER, "tasks", "nav.tasks",
       "navigation interrupted", "导航中断次数", True),
    _m("nav.lidar_faults", "nav", COUNTER, "faults", "nav.tasks",
       "lidar (radar) faults", "雷达故障次数", True),
    _m("nav.localization_faults", "nav", COUNTER, "faults", "nav.tasks",
       "localisation faults", "定位故障次数", True),
    _m("nav.relocalization_faults", "nav", COUNTER, "faults", "nav.tasks",
       "relocalisation faults", "重定位故障次数", True),
    # asr
    _m("asr.requests", "asr", COUNTER, "requests", None, "speech recognition requests", "语音识别请求数"),
    _m("asr.unrecognized", "asr", COUNTER, "requests", "asr.requests",
       "speech not recognised", "语音未识别数", True),
    _m("asr.misrecognized", "asr", COUNTER, "requests", "asr.requests",
       "speech misrecognised", "语音识别错误数", True),
    # nlp
    _m("nlp.requests", "nlp", COUNTER, "requests", None, "utterances handed to NLP", "语义理解请求数"),
    _m("nlp.unhandled", "nlp", COUNTER, "requests", "nlp.requests",
       "utterances not handled", "语义未处理数", True),
    _m("nlp.errors", "nlp", COUNTER, "requests", "nlp.requests",
       "utterance handling errors", "语义处理错误数", True),
    # tts
    _m("tts.requests", "tts", COUNTER, "requests", None, "speech playback requests", "语音播报请求数"),
    _m("tts.failed", "tts", COUNTER, "requests", "tts.requests",
       "speech not played", "语音未播报数", True),
    _m("tts.errors", "tts", COUNTER, "requests", "tts.requests",
       "speech playback errors", "语音播报错误数", True),
    # usage
    _m("usage.foot_traffic", "usage", COUNTER, "people", None, "people passing the robot", "客流"),
    _m("usage.solicitations", "usage", COUNTER, "calls", None, "the robot called people over", "招揽"),
    _m("usage.wakeups", "usage", COUNTER, "wakeups", None, "someone woke the robot", "唤醒"),
    _m("usage.interactions", "usage", COUNTER, "interactions", None, "interactions with people", "交互"),
    # skills (any skill.<name> is accepted; these are the known ones)
    _m("skill.guide", "skills", COUNTER, "uses", None, "guide tours", "导览"),
    _m("skill.sign_in", "skills", COUNTER, "uses", None, "sign-ins", "签到"),
    _m("skill.delivery", "skills", COUNTER, "uses", None, "deliveries", "递送"),
    _m("skill.lead_way", "skills", COUNTER, "uses", None, "lead-the-way / directions", "带路/问路引领"),
    _m("skill.speech", "skills", COUNTER, "uses", None, "speeches given", "演讲"),
    _m("skill.qa", "skills", COUNTER, "uses", None, "questions answered", "问答"),
    # system
    _m("sys.cpu_pct", "system", GAUGE, "%", None, "CPU use", "CPU占用"),
    _m("sys.mem_pct", "system", GAUGE, "%", None, "memory use", "内存占用"),
    _m("sys.disk_pct", "system", GAUGE, "%", None, "disk use of the state directory's filesystem", "磁盘占用"),
    _m("sys.temp_c", "system", GAUGE, "°C", None, "highest temperature sensor", "温度"),
    _m("sys.uptime_s", "system", GAUGE, "s", None, "seconds since boot", "运行时长"),
    _m("power.battery_pct", "system", GAUGE, "%", None, "battery charge", "电量"),
    # the agent itself
    _m("agent.dropped_windows", "agent", COUNTER, "windows", None,
       "windows thrown away because the outbox was full", "丢弃窗口数", True),
    _m("agent.backlog", "agent", GAUGE, "windows", None, "windows waiting in the outbox", "积压窗口数"),
    _m("agent.statsd_bad_lines", "agent", COUNTER, "lines", None,
       "StatsD lines the agent could not parse and dropped", "无效StatsD行数"),
    _m("agent.sampler_errors", "agent", COUNTER, "errors", None,
       "sampler runs that raised (logged, never fatal)", "采样错误数"),
    _m("agent.statsd_ignored_tags", "agent", COUNTER, "tags", None,
       "StatsD tags the agent did not map to a metric (the line itself was counted)", "忽略的StatsD标签数"),
)

BY_NAME: dict[str, Metric] = {m.name: m for m in CATALOGUE}

USAGE_VOLUMES = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")


def lookup(name: str) -> Metric | None:
    """The catalogue row of ``name``; any ``skill.<x>`` gets a generated row."""
    metric = BY_NAME.get(name)
    if metric is None and name.startswith("skill.") and METRIC_NAME_RE.match(name):
        metric = Metric(name, "skills", COUNTER, "uses", None, f"uses of skill {name[6:]}", "技能")
    return metric


def is_valid_name(name: str) -> bool:
    return isinstance(name, str) and len(name) <= 128 and METRIC_NAME_RE.match(name) is not None


def subsystem_metrics(subsystem: str) -> tuple[Metric, ...]:
    return tuple(m for m in CATALOGUE if m.subsystem == subsystem)


def error_metrics(subsystem: str) -> tuple[Metric, ...]:
    """The error counters of a subsystem, each with its denominator."""
    return tuple(m for m in CATALOGUE if m.subsystem == subsystem and m.is_error)


# ------------------------------------------------------------------ StatsD tags


@dataclass(frozen=True, slots=True)
class TagRule:
    """How a StatsD tag (DogStatsD ``|#key:value``, Telegraf ``name,key=value``) on a counter becomes
    a count of its own: a counter whose name starts with ``on`` and carries tag ``key`` also adds
    its count to ``counts`` with ``{value}`` replaced by the tag's value (lower-cased, ``-`` as
    ``_``).  Tags no rule maps are ignored and counted in ``agent.statsd_ignored_tags``."""

    on: str
    key: str
    counts: str
    description: str


#: the tag rules, data (docs/agent.md lists them); robot software tags usage with the skill in use
TAG_RULES: tuple[TagRule, ...] = (
    TagRule("usage.", "skill", "skill.{value}",
            "a usage counter tagged with the skill that served it also counts that skill's use"),
)


def tag_metric(metric: str, key: str, value: str | None) -> str | None:
    """The metric a tag on counter ``metric`` also counts, or None (the tag is ignored)."""
    if not value:
        return None
    for rule in TAG_RULES:
        if rule.key == key and metric.startswith(rule.on):
            name = rule.counts.format(value=value.lower().replace("-", "_"))
            return name if is_valid_name(name) else None
    return None
