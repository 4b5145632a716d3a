"""The report's risk and next-step rules (collector/report/rules.py) stay explained: every code has
its sentence in both languages with the placeholders its facts fill, and a row in docs/report.md;
the scripts of the report page ask only for keys the catalogue has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collector.report import rules
from collector.report.render import CATALOGUE_PATH, catalogue

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("kind,codes", [("risk", rules.RISK_CODES), ("step", rules.STEP_CODES)])
def test_report_rules_every_code_has_sentences_and_docs(kind, codes):
    for code in codes:
        for lang in ("en", "zh-CN"):
            assert f"report.{kind}.{code}" in catalogue()[lang], (lang, code)
        assert f"`{code}`" in DOCS, code
    assert set(rules.STEP_FOR) == set(rules.RISK_CODES)
    assert set(rules.STEP_FOR.values()) <= set(rules.STEP_CODES)


def _report(**over) -> dict:
    """A month's figures with every rule's trigger set (a risk of each kind)."""
    vol = {"usage.foot_traffic": 1000, "usage.solicitations": 500, "usage.wakeups": 200, "usage.interactions": 100}
    r = {"outcome": {"volumes": vol, "per_robot_day": {m: v / 10 for m, v in vol.items()}},
         "robots": {"in_service": 2},
         "previous": {"has_data": True, "month": "2026-10", "per_robot_day_change_pct": {"usage.interactions": -40.0}},
         "peers": {"customers": 3, "scene": "museum", "ratio_pct": {"usage.interactions": 20.0},
                   "per_robot_day": {"usage.foot_traffic": 100.0, "usage.interactions": 50.0},
                   "measure": {"median_ratio_pct": 20.0}, "conversion": {"peers": 3, "median_pct": 50.0}},
         "measure": {"metrics": ["skill.guide", "usage.interactions"], "per_robot_day": 15.0, "benchmark": 1000.0},
         "funnel": {"conversion_pct": 10.0},
         "daily": {"interactions": [0, 0, 0, 5], "robots": [2, 2, 2, 2]},
         "availability": {"pct": 70.0},
         "anomalies": {s: {"robots": 1 if s == "asr" else 0, "rate": 0.5 if s == "asr" else 0.0}
                       for s in ("network", "vision", "touch", "nav", "asr", "nlp", "tts")},
         "alerts": {"open_at_end": 2, "median_minutes": 3000.0},
         "goals": {"as_of": "2026-11-30", "items": [{"status": "missed"}]},
         "customer": {"contract_end": "2027-01-15"}, "period": {"last_day": "2026-11-30"},
         "benchmark": {"met": False, "progress_pct": 60.0, "interactions_per_robot_day": 600.0, "threshold": 1000.0}}
    r.update(over)
    return r


def test_report_rules_fire_each_risk_with_the_facts_its_sentence_needs():
    r = _report()
    r["risks"] = rules.risks(r)
    assert [x["code"] for x in r["risks"]] == [c for c in rules.RISK_CODES if c != "no_use"]
    r["next_steps"] = rules.next_steps(r)
    assert [x["code"] for x in r["next_steps"]][-1] == "path_to_benchmark"
    for kind, items in (("risk", r["risks"]), ("step", r["next_steps"])):
        for item in items:
            needed = set(PLACEHOLDER.findall(catalogue()["en"][f"report.{kind}.{item['code']}"]))
            assert needed <= set(item["facts"]), (item["code"], needed - set(item["facts"]))


def test_report_rules_quiet_month_has_no_risk_and_a_benchmark_step():
    r = _report(previous={"has_data": True, "month": "2026-10", "per_robot_day_change_pct": {"usage.interactions": 5.0}},
                peers={"customers": 0, "scene": "museum", "ratio_pct": {"usage.interactions": None},
                       "per_robot_day": {"usage.foot_traffic": None, "usage.interactions": None}},
                daily={"interactions": [5, 5], "robots": [2, 2]}, availability={"pct": 99.0},
                alerts={"open_at_end": 0, "median_minutes": 30.0}, goals={"as_of": "2026-11-30", "items": []},
                customer={"contract_end": None},
                benchmark={"met": True, "progress_pct": 120.0, "interactions_per_robot_day": 1200.0, "threshold": 1000.0})
    r["anomalies"]["asr"] = {"robots": 0, "rate": 0.0}
    r["risks"] = rules.risks(r)
    assert r["risks"] == []
    assert [x["code"] for x in rules.next_steps(r)] == ["propose_benchmark"]


def test_report_page_script_asks_only_for_catalogue_keys():
    source = (CATALOGUE_PATH.parent / "report.js").read_text(encoding="utf-8")
    keys = set(re.findall(r"""\bt\(\s*"([\w.]+)"\s*[,)]""", source))
    assert len(keys) >= 5 and sorted(k for k in keys if k not in catalogue()["en"]) == []
