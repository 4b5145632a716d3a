"""The dashboard's message catalogue (collector/dashboard/static/messages.json): both languages
carry the same keys and placeholders, every name the dashboard shows from a fixed vocabulary
(rules, subsystems, states, score parts) has a message, every key app.js asks for exists, and the
patterns that read the health cycle's English score facts back match what it really writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from collector.alerts.rules import RULE_FUNCTIONS
from collector.alerts.states import STATES
from collector.dashboard.routes import STATIC
from collector.health import customer, peers
from collector.health.settings import MEASURES, defaults
from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES
from protocol.config import Values

CATALOGUE = json.loads((Path(STATIC) / "messages.json").read_text(encoding="utf-8"))
MESSAGES = CATALOGUE["messages"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: rule names of contract section 6, added by other work; the dashboard names them already
NEW_RULES = ("goal_at_risk", "low_conversion")


def test_dashboard_catalogue_languages_have_the_same_keys():
    assert set(MESSAGES) == {"en", "zh-CN"} == set(CATALOGUE["languages"])
    assert set(MESSAGES["en"]) == set(MESSAGES["zh-CN"])


def test_dashboard_catalogue_placeholders_agree_and_nothing_is_empty():
    for key, en in MESSAGES["en"].items():
        zh = MESSAGES["zh-CN"][key]
        assert en.strip() and zh.strip(), key
        assert sorted(PLACEHOLDER.findall(en)) == sorted(PLACEHOLDER.findall(zh)), key


def test_dashboard_catalogue_chinese_is_chinese():
    """A zh-CN message that equals its English one is a forgotten translation, unless it holds
    no words (symbols, numbers, placeholders) or is a name kept as is (KTV, 中文/English)."""
    kept = {"lang.zh", "lang.en", "scene.ktv"}
    for key, en in MESSAGES["en"].items():
        words = re.sub(r"\{\w+\}", "", en)
        if key in kept or not re.search(r"[A-Za-z]{2,}", words):
            continue
        assert MESSAGES["zh-CN"][key] != en, key


@pytest.mark.parametrize("prefix,names", [
    ("rule.", (*RULE_FUNCTIONS, *NEW_RULES)), ("rule_explain.", (*RULE_FUNCTIONS, *NEW_RULES)),
    ("subsystem.", HEALTH_SUBSYSTEMS), ("state.", ("ok", "warn", "crit", "stale", "online", "offline", "unknown")),
    ("alert_state.", STATES), ("severity.", ("critical", "warning", "info")),
    ("color.", ("green", "yellow", "red", "none")), ("trend.", ("up", "down", "flat")),
    ("measure.", MEASURES), ("measure_explain.", MEASURES), ("metric.", USAGE_VOLUMES),
    # every scene of the default scene_measures, and a customer of none ("unknown"-scene peers)
    ("scene.", (*peers.table(peers.SCENE_MEASURES), "unknown")),
])
def test_dashboard_catalogue_names_every_fixed_term(prefix, names):
    missing = [n for n in names if prefix + n not in MESSAGES["en"]]
    assert missing == []


def test_dashboard_catalogue_has_every_key_the_scripts_ask_for():
    source = "\n".join((Path(STATIC) / name).read_text() for name in ("app.js", "summaries.js", "goals.js", "funnel.js",
                                                                             "index.html", "outcomes.js", "book.js"))
    keys = set(re.findall(r"""\bt\(\s*"([\w.]+)"\s*[,)]""", source))
    keys |= set(re.findall(r'data-i18n(?:-title)?="([\w.]+)"', source))
    keys |= set(re.findall(r'"(summary\.[\w.]+)"', source))
    assert len(keys) > 80
    assert sorted(k for k in keys if k not in MESSAGES["en"]) == []


def _facts() -> list[tuple[str, str]]:
    """Every branch of collector.health.customer.measures, as (measure, English fact)."""
    s = defaults()
    robot = {"state": "online", "score": 90.0}
    use = {"interactions_per_robot_day_30d": 321.4, "trend_7d_pct": -12.5, "interactions_7d": 100}
    open_m = {"7": {"status": "open"}}
    variants = [
        ([robot, {"state": "offline", "score": 0.0}], use, {"percentile": 37.5, "peers": 4, "scene": "museum"},
         [{"milestones": {"7": {"status": "met"}, "14": {"status": "missed"}}}], {"days_to_renewal": 30}),
        ([{"state": "offline", "state_reason": "shutdown", "score": 0.0}],
         {**use, "trend_7d_pct": None, "interactions_7d": 0}, {"percentile": None}, [{"milestones": open_m}],
         {"days_to_renewal": None}),
        ([robot], {**use, "trend_7d_pct": 8.0}, {"percentile": 50.0, "peers": 1, "scene": ""}, [],
         {"days_to_renewal": -3}),
        # the scene's primary measure (issue 13): ranked among enough peers, or too few to rank
        ([robot], {**use, "primary": {"measure": "guide + interactions", "benchmark": 1000.0, "per_robot_day_30d": 250.0,
                                      "vs_usual_pct": -12.5}}, {"percentile": 40.0, "peers": 6, "scene": "museum"}, [],
         {"days_to_renewal": 10}),
        ([robot], {**use, "primary": {"measure": "guide + interactions", "benchmark": 1000.0, "per_robot_day_30d": 250.0}}, {"percentile": None, "peers": 1, "scene": "museum"}, [],
         {"days_to_renewal": 10}),
    ]
    out = []
    for robots, u, peers, onboard, deal in variants:
        for measure, (_, fact) in customer.measures(robots, u, peers, onboard, deal, s).items():
            out.append((measure, fact))
    return out


def _peer_facts() -> list[tuple[str, str]]:
    """The facts the peers code (collector/health/peers.py) makes, for every scene of the default
    ``health.scene_measures`` (museum "guide + interactions", KTV "delivery", conference "sign_in +
    lead_way"...): its measure against the benchmark ranked among enough peers and among too few to
    rank, and against its usual level; and a venue closed (no robot in service)."""
    s = defaults()
    robot = {"state": "online", "score": 90.0}
    out = []
    for measure in peers.table(s.scene_measures).values():
        days = [40 + i % 7 for i in range(peers.DAYS)]
        days[-7:] = [20] * 7  # a week below its usual level
        prim = peers.primary(measure, days, 2, s)
        assert prim["vs_usual_pct"] is not None
        for n in (s.percentile_min_peers + 1, s.percentile_min_peers - 1):
            values = {f"c{i}": (measure.scene, prim["per_robot_day_30d"] * (1 + i / 10), prim["benchmark"])
                      for i in range(n + 1)}
            standing = peers.compare(values, s)["c0"]
            use = {"interactions_per_robot_day_30d": 40.0, "trend_7d_pct": -5.0, "interactions_7d": 280,
                   "primary": prim}
            out += [(m, fact) for m, (_, fact) in customer.measures([robot], use, standing, [], {}, s).items()]
    closed = {"state": "offline", "score": 0.0, "closed": True}
    out += [(m, fact) for m, (_, fact) in customer.measures([closed], use, standing, [], {}, s).items()]
    return out


def _read(fact: str) -> tuple[str, dict[str, str]]:
    """The one pattern that reads a fact: its key and placeholders (the test fails on none or two)."""
    patterns = CATALOGUE["fact_patterns"]
    hits = [key for key, (source, _) in patterns.items() if re.fullmatch(source, fact)]
    assert len(hits) == 1, (fact, hits)
    source, names = patterns[hits[0]]
    return hits[0], dict(zip(names, re.fullmatch(source, fact).groups()))


def _measure_name(raw: str, lang: str) -> str:
    """summaries.js measureName: each metric of the measure by its catalogue name, joined by metric.sum."""
    names = []
    for part in (p.strip() for p in raw.split("+")):
        key = next((k for k in (f"metric.usage.{part}", f"metric.skill.{part}") if k in MESSAGES[lang]), None)
        assert key is not None, f"the measure part {part!r} of {raw!r} has no catalogue name"
        names.append(MESSAGES[lang][key])
    out = names[0]
    for name in names[1:]:
        out = MESSAGES[lang]["metric.sum"].format(a=out, b=name)
    return out


def test_dashboard_catalogue_fact_patterns_read_the_peers_facts_in_chinese():
    """Every fact of a scene's measure has a pattern, its measure's parts and its scene have
    catalogue names, and the Chinese sentence made from them holds no English word (KTV is a name)."""
    facts = _peer_facts()
    keys = {_read(fact)[0] for _, fact in facts}
    assert {"fact.adoption_measure_peers", "fact.adoption_measure", "fact.usage_trend_usual",
            "fact.reliability_closed"} <= keys
    measures = set()
    for _, fact in facts:
        key, params = _read(fact)
        for name, value in params.items():
            if name == "measure":
                measures.add(value)
                params[name] = _measure_name(value, "zh-CN")
            elif name == "scene":
                assert f"scene.{value}" in MESSAGES["zh-CN"], (fact, value)
                params[name] = MESSAGES["zh-CN"][f"scene.{value}"]
        zh = PLACEHOLDER.sub(lambda m: params[m.group(1)], MESSAGES["zh-CN"][key])
        assert re.findall(r"[A-Za-z]{2,}", zh.replace("KTV", "")) == [], (fact, zh)
    assert {"guide + interactions", "delivery", "sign_in + lead_way"} <= measures


def test_dashboard_catalogue_fact_patterns_read_every_health_fact():
    patterns = CATALOGUE["fact_patterns"]
    seen = set()
    for measure, fact in _facts() + _peer_facts():
        hits = [key for key, (source, _) in patterns.items() if re.fullmatch(source, fact)]
        assert len(hits) == 1, (measure, fact, hits)
        seen.add(hits[0])
        source, names = patterns[hits[0]]
        assert re.compile(source).groups == len(names)
        assert sorted(names) == sorted(PLACEHOLDER.findall(MESSAGES["en"][hits[0]]))
    assert seen == set(patterns)  # no pattern for a sentence the health cycle no longer writes


SUMMARIES_JS = (Path(STATIC) / "summaries.js").read_text(encoding="utf-8")


def _rule_facts() -> dict[str, dict]:
    """The facts each rule of collector/alerts/rules.py really writes, from one small context."""
    cfg = Values({"direction": "above", "threshold": 0, "clear": 0, "min_robots": 1, "min_down": 1, "min_volume": 0,
                  "min_peers": 1, "min_age_days": 0})
    subs = {s: {"level": "ok", "rate_1h": 0.0, "rate_since_yesterday": 0.0, "volume_1h": 1, "volume_since_yesterday": 1}
            for s in HEALTH_SUBSYSTEMS}
    subs["asr"] = {**subs["asr"], "level": "crit", "rate_1h": 0.4}
    robot = {"robot": "r-1", "customer": "c-1", "site": "s-1", "state": "stale", "last_window_ms": 0,
             "subsystems": subs}
    facts = {"usage": {"trend_7d_pct": -50.0, "interactions_7d": 700, "interactions_prev_7d": 1400,
                       "trend_weekday_pct": None, "interactions_per_robot_day_30d": 1200.0, "idle_days": 3,
                       "primary": {"measure": "delivery", "benchmark": 300.0, "last_7d": 700, "prev_7d": 1400,
                                   "usual_7d": 1400.0, "usual_per_robot_day": 200.0, "vs_usual_pct": -50.0,
                                   "trend_7d_pct": -50.0}},
             "peers": {"percentile": 10.0, "peers": 3, "scene": "museum", "value": 100.0, "median": 400.0,
                       "ratio": 0.25, "at_benchmark": False},
             "onboarding": [{"robot": "r-1", "age_days": 9, "active_last_7d": 1, "milestones": {}}],
             "contract": {"arr": 1.0, "contract_end": "2027-01-01", "days_to_renewal": 30},
             "benchmark": {"interactions_per_robot_day_30d": 1200.0, "robots": 1, "scene": "museum"}}
    ctx = {"now": 3_600_000, "robots": [robot], "sites": {"r-1": "s-1"},
           "customers": {"c-1": {"customer": "c-1", "robots": {"total": 1, "online": 1}, "facts": facts, "color": "yellow",
                                 "score": 50.0}}}
    # low_conversion compares a customer's funnel with its scene's: c-1 converts 5 %, a peer 25 %
    def funnel(interactions):
        return {"from": "2026-01-01", "to": "2026-01-30", "days": 30, "conversion": interactions / 10, "robot_days": 30,
                "volumes": {"foot_traffic": 1000, "solicitations": 500, "wakeups": 300, "interactions": interactions}}
    facts["funnel"] = funnel(50)
    ctx["customers"]["c-2"] = {**ctx["customers"]["c-1"], "customer": "c-2", "facts": {**facts, "funnel": funnel(250)}}
    ctx["goals"] = [{"id": 1, "customer": "c-1", "metric": "conversion", "target": 45.0, "progress": 30.0,
                     "projection": 35.0, "status": "at_risk", "start": "2026-12-01", "due": "2027-01-01",
                     "unit": "%", "days_left": 10}]
    out = {}
    for name, rule in RULE_FUNCTIONS.items():
        found = rule(ctx, cfg)
        assert found, name
        out[name] = found[0]["facts"]
    return out


def test_dashboard_summaries_read_only_facts_the_rules_write():
    """summaries.js renders each rule's sentence from its facts: every rule has an entry there,
    and every fact an entry reads (``f.<key>``) is one its rule really writes."""
    for name, facts in _rule_facts().items():
        entry = re.search(rf"^    {name}: (.*?)(?=^    \w+: |^  }};)", SUMMARIES_JS, re.M | re.S)
        assert entry is not None, f"summaries.js has no sentence for {name}"
        read = set(re.findall(r"\bf\.(\w+)", entry.group(1)))
        assert read and read <= set(facts), (name, read - set(facts))
        assert f'"summary.{name}"' in entry.group(1)
