"""The report as HTML in one language: a fragment the dashboard shows and prints, and a whole
document (the same fragment) that ``robopulse collector report`` saves or prints to PDF.

Why server-side, in Python: one renderer for the three ways to get the report, so the PDF a
customer receives and the page a CSM checks cannot disagree.  Every string comes from the
dashboard's catalogue (``collector/dashboard/static/messages.json``, ``report.*`` keys and the
names the dashboard already has), so the page walk test that checks the dashboard's language
checks this too.  Every value from the data is escaped; no script.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from html import escape
from pathlib import Path

from collector.report import charts
from collector.report.period import parse_month
from protocol.catalogue import HEALTH_SUBSYSTEMS, USAGE_VOLUMES

#: the dashboard's catalogue (read as a file: the dashboard package is above this one)
CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "dashboard" / "static" / "messages.json"
CSS_PATH = Path(__file__).resolve().parent / "report.css"
LANGUAGES = ("zh-CN", "en")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=1)
def catalogue() -> dict:
    return json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["messages"]


@lru_cache(maxsize=1)
def css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def language_of(figures: dict) -> str:
    """The catalogue language of the customer's report language (``zh`` -> ``zh-CN``)."""
    return "en" if figures["customer"].get("language") == "en" else "zh-CN"


class Words:
    """Messages, names, numbers and dates in one language."""

    def __init__(self, lang: str):
        self.lang = lang
        self.m = catalogue()[lang]

    def t(self, key: str, **kw) -> str:
        return _PLACEHOLDER.sub(lambda mt: str(kw[mt.group(1)]), self.m[key])

    def term(self, prefix: str, name: str) -> str:
        return self.m.get(prefix + name, name)

    def metric(self, name: str) -> str:
        return self.m.get("metric." + name, name.split(".", 1)[-1])

    def label(self, text: str) -> str:
        """A label that starts a cell, a card or a bar: the catalogue's names are lower case for use
        inside sentences (``foot traffic``), so in English the first letter is raised; Chinese has none."""
        return text[:1].upper() + text[1:] if self.lang == "en" else text

    @property
    def na(self) -> str:
        """What a figure without a value shows (the catalogue's ``none``: a dash)."""
        return self.m["none"]

    def num(self, v: float | None, digits: int = 0) -> str:
        """Grouped digits (``12,345``, ``1,234.5``): what zh-CN and en-US number formats both write."""
        if v is None:
            return self.na
        return f"{v:,.{digits}f}" if digits or not float(v).is_integer() else f"{int(v):,}"

    def n1(self, v: float | None) -> str:
        """One decimal, none when it is 0 (``608``, ``60.8``)."""
        if v is None:
            return self.na
        v = round(v, 1)
        return self.num(v, 0 if float(v).is_integer() else 1)

    def pct(self, v: float | None, signed: bool = False) -> str:
        if v is None:
            return self.na
        text = f"{v:,.1f}%"
        return ("+" + text) if signed and v > 0 else text

    def date(self, iso: str) -> str:
        y, m, d = iso[:10].split("-")
        return f"{y}/{m}/{d}" if self.lang == "zh-CN" else f"{m}/{d}/{y}"

    def short_date(self, iso: str) -> str:
        return f"{int(iso[5:7])}/{int(iso[8:10])}"

    def span(self, hours: str) -> str:
        """``09:00-17:00`` as the catalogue's clock span (its parts are numbers in every language)."""
        m = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", hours)
        if not m:
            return hours
        h1, m1, h2, m2 = m.groups()
        return self.t("report.span", start=self.t("report.clock", h=h1, m=m1), end=self.t("report.clock", h=h2, m=m2))

    def month(self, label: str) -> str:
        return self.t("report.month_title", year=label[:4], month_name=self.t(f"report.month.{int(label[5:])}"))

    def minutes(self, v: float | None) -> str:
        if v is None:
            return self.na
        if v < 120:
            return self.t("report.minutes", value=self.num(round(v)))
        return self.t("report.hours", value=self.n1(v / 60))


def _e(text) -> str:
    return escape(str(text))


def _tag(tag: str, text: str, cls: str | None = None, **attrs) -> str:
    a = (f' class="{cls}"' if cls else "") + "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())
    return f"<{tag}{a}>{_e(text)}</{tag}>"


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    out = [f'<table class="{cls}"><thead><tr>', *(_tag("th", h) for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(_tag("td", c) for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _section(key: str, w: Words, *body: str, cls: str = "") -> str:
    return f'<section class="block {cls}" data-section="{key}">{_tag("h2", w.t("report.section." + key))}{"".join(body)}</section>'


# ------------------------------------------------------------------ sections
def _header(r: dict, w: Words) -> str:
    c = r["customer"]
    scene = w.label(w.term("scene.", c["scene"]) if c.get("scene") else w.t("report.none"))
    meta = [w.t("report.meta.scene", scene=scene),
            w.t("report.meta.robots", robots=w.num(r["robots"]["in_service"])),
            w.t("report.meta.period", first=w.date(r["period"]["first_day"]), last=w.date(r["period"]["last_day"])),
            w.t("report.meta.zone", zone=zone_label(c["timezone"], r["period"]["from_ms"]))]
    if c.get("csm"):
        meta.append(w.t("report.meta.csm", csm=c["csm"]))
    out = ['<div class="report-head">', _tag("p", w.t("report.title"), "kicker"),
           _tag("h1", c["name"], "customer", id="report-customer"),
           _tag("p", w.month(r["month"]), "month", id="report-month"),
           '<ul class="meta">', *(_tag("li", m) for m in meta), "</ul>"]
    if not r["period"]["complete"]:
        through = dt.datetime.fromtimestamp(r["period"]["through_ms"] / 1000, dt.timezone.utc)
        out.append(_tag("p", w.t("report.in_progress", date=w.date(_local_iso(through, c["timezone"]))), "note"))
    out.append("</div>")
    return "".join(out)


def zone_label(zone: str, at_ms: int) -> str:
    """``UTC+8 Asia/Shanghai``: the zone the report's days are in, with its offset at the month's start
    (the form the dashboard names zones in)."""
    from zoneinfo import ZoneInfo

    off = dt.datetime.fromtimestamp(at_ms / 1000, ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "") + f" {zone}"


def _local_iso(at: dt.datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(zone)).date().isoformat()


def _no_data(r: dict, w: Words) -> str:
    return _section("no_data", w, _tag("p", w.t("report.no_data", name=r["customer"]["name"], month=w.month(r["month"])),
                                       "no-data", id="report-no-data"))


def _outcome(r: dict, w: Words) -> str:
    o, prev = r["outcome"], r["previous"]
    cards = ['<div class="cards">']
    for m in USAGE_VOLUMES:
        change = prev["per_robot_day_change_pct"][m] if prev["has_data"] else None
        cls = "up" if (change or 0) >= 1 else "down" if (change or 0) <= -1 else "flat"  # under 1 %: flat
        cards.append(f'<div class="card" data-metric="{m}">{_tag("div", w.label(w.metric(m)), "label")}'
                     f'{_tag("div", w.num(o["volumes"][m]), "value")}'
                     f'{_tag("div", w.t("report.per_robot_day", value=w.n1(o["per_robot_day"][m])), "sub")}'
                     + (_tag("div", w.t("report.vs_previous", change=w.pct(change, True)), "change " + cls)
                        if change is not None else "") + "</div>")
    cards.append("</div>")
    skills = [[w.label(w.metric(m)), w.num(v)] for m, v in o["skills"].items()]
    daily = r["daily"]
    per = [n / k if k else 0 for n, k in zip(daily["interactions"], daily["robots"])]
    lines = [(r["benchmark"]["threshold"], charts.WARN, w.label(w.t("report.chart.benchmark")))]
    peer = r["peers"]["per_robot_day"]["usage.interactions"]
    if r["peers"]["customers"] and peer is not None:
        lines.append((peer, charts.PEER, w.label(w.t("report.chart.peers"))))
    chart = charts.daily_bars(per, [w.short_date(d) for d in daily["days"]], lambda v: w.num(round(v)),
                              w.t("report.chart.daily"), lines)
    return _section("outcome", w, _tag("p", w.t("report.outcome_lead", interactions=w.num(o["volumes"]["usage.interactions"]),
                                                 robots=w.num(r["robots"]["in_service"])), "lead"),
                    "".join(cards),
                    f'<figure class="fig">{_tag("figcaption", w.t("report.chart.daily"))}{chart}</figure>',
                    '<div class="skills">', _tag("h3", w.t("report.skills")),
                    _table([name for name, _ in skills], [[uses for _, uses in skills]], "skills-table"), "</div>")


def measure_name(metrics, w: Words) -> str:
    """The scene's primary measure in words: ``guide tours + interactions``, ``导览 + 交互``."""
    names = [w.metric(m) for m in metrics]
    out = names[-1]
    for name in reversed(names[:-1]):
        out = w.t("report.measure_plus", first=name, second=out)
    return out


def _compare(r: dict, w: Words) -> str:
    per, prev, peers = r["outcome"]["per_robot_day"], r["previous"], r["peers"]
    measure = r.get("measure") or {"metrics": ["usage.interactions"], "is_interactions": True}
    pm = peers.get("measure") or {}
    head = [w.t("report.col.volume"), w.t("report.col.this_month"), w.t("report.col.previous_month"),
            w.t("report.col.change"), w.t("report.col.peers"), w.t("report.col.vs_peers")]
    rows = []
    for m in USAGE_VOLUMES:
        rows.append([w.label(w.metric(m)), w.n1(per[m]), w.n1(prev["per_robot_day"][m]) if prev["has_data"] else w.na,
                     w.pct(prev["per_robot_day_change_pct"][m], True) if prev["has_data"] else w.na,
                     w.n1(peers["per_robot_day"][m]) if peers["customers"] else w.na,
                     w.pct(peers["ratio_pct"][m]) if peers["customers"] else w.na])
    name = measure_name(measure["metrics"], w)
    if not measure["is_interactions"]:  # a KTV is judged on deliveries: its measure beside the volumes
        rows.append([w.label(w.t("report.measure_row", measure=name)), w.n1(measure["per_robot_day"]),
                     w.n1(measure["previous_per_robot_day"]) if prev["has_data"] else w.na,
                     w.pct(measure["per_robot_day_change_pct"], True) if prev["has_data"] else w.na,
                     w.n1(pm.get("per_robot_day")) if peers["customers"] else w.na,
                     w.pct(pm.get("ratio_pct")) if peers["customers"] else w.na])
    notes = [_tag("p", w.t("report.compare_unit"), "muted")]
    scene = w.term("scene.", peers["scene"]) if peers["scene"] else w.t("report.none")
    if peers["customers"] and peers["percentile"] is not None:
        notes.append(_tag("p", w.t("report.peers_line", peers=w.num(peers["customers"]), scene=scene, measure=name,
                                   percentile=w.n1(peers["percentile"])), "lead", id="report-peers-rank"))
    elif peers["customers"]:  # with few peers a rank says nothing (one peer: always 0 or 100), as health
        notes.append(_tag("p", w.t("report.peers_too_few", peers=w.num(peers["customers"]), scene=scene,
                                   min=w.num(peers.get("percentile_min_peers"))), "lead", id="report-peers-rank"))
    else:
        notes.append(_tag("p", w.t("report.no_peers", scene=scene), "muted"))
    if not measure["is_interactions"] and measure.get("per_robot_day") is not None:
        if peers["customers"] and pm.get("median") is not None:
            notes.append(_tag("p", w.label(w.t("report.measure_line", scene=scene, measure=name,
                                                value=w.n1(measure["per_robot_day"]), median=w.n1(pm["median"]),
                                                ratio=w.pct(pm.get("median_ratio_pct")))), "muted", id="report-measure"))
        else:
            notes.append(_tag("p", w.label(w.t("report.measure_alone", scene=scene, measure=name,
                                                value=w.n1(measure["per_robot_day"]))), "muted", id="report-measure"))
    if r.get("closed_weekdays"):
        days = w.t("report.list_sep").join(w.t(f"report.weekday.{d}") for d in r["closed_weekdays"])
        notes.append(_tag("p", w.t("report.closed_days", days=days), "muted"))
    if not prev["has_data"]:
        notes.append(_tag("p", w.t("report.no_previous", month=w.month(prev["month"])), "muted"))
    figure = ""
    if peers["customers"]:  # no chart of the customer against nobody
        bars = [(w.label(w.metric(m)), per[m], peers["per_robot_day"][m]) for m in USAGE_VOLUMES]
        if not measure["is_interactions"]:
            bars.append((w.label(name), measure["per_robot_day"], pm.get("per_robot_day")))
        chart = charts.paired_bars(bars, lambda v: w.n1(v), (w.label(w.t("report.chart.this_customer")), w.label(w.t("report.chart.peers"))),
                                   w.t("report.chart.vs_peers"))
        figure = f'<figure class="fig">{_tag("figcaption", w.t("report.chart.vs_peers"))}{chart}</figure>'
    return _section("compare", w, _table(head, rows, "compare-table"), *notes, figure)


def _funnel(r: dict, w: Words) -> str:
    steps = [(w.label(w.metric(s["metric"])), s["total"], w.t("report.of_previous", pct=w.pct(s["of_previous_pct"]))
              if s["of_previous_pct"] is not None else "") for s in r["funnel"]["steps"]]
    chart = charts.funnel(steps, lambda v: w.num(v), w.t("report.section.funnel"))
    return _section("funnel", w, f'<figure class="fig">{chart}</figure>',
                    _tag("p", w.t("report.conversion", pct=w.pct(r["funnel"]["conversion_pct"])), "lead"))


def _availability(r: dict, w: Words) -> str:
    a = r["availability"]
    source = {"imported": "report.hours_imported", "learned": "report.hours_learned", "none": "report.hours_none"}
    spans = "".join(" " + _tag("span", w.span(x.strip()), "span") for x in a["hours"].split(",") if x.strip())
    return _section("availability", w,
                    '<div class="cards">', f'<div class="card">{_tag("div", w.t("report.availability"), "label")}'
                    f'{_tag("div", w.pct(a["pct"]), "value", id="report-availability")}</div></div>',
                    f'<p class="muted hours">{_e(w.t(source[a["source"]]))}{spans}</p>',
                    _tag("p", w.t("report.availability_line", covered=w.num(a["covered_robot_hours"]),
                                  expected=w.num(a["expected_robot_hours"])), "muted"))


def _anomalies(r: dict, w: Words) -> str:
    al = r["alerts"]
    head = [w.t("report.col.subsystem"), w.t("report.col.robots_anomalous"), w.t("report.col.anomalies"),
            w.t("report.col.anomaly_rate"), w.t("report.col.alerts_resolved"), w.t("report.col.time_to_fix")]
    rows = []
    for sub in HEALTH_SUBSYSTEMS:
        a, f = r["anomalies"][sub], al["by_subsystem"][sub]
        rows.append([w.label(w.term("subsystem.", sub)), w.num(a["robots"]), w.num(a["count"]), w.pct(a["rate"] * 100),
                     w.num(f["resolved"]), w.minutes(f["median_minutes"])])
    fixed = w.t("report.fixed_line", resolved=w.num(al["resolved"]), opened=w.num(al["opened"]),
                median=w.minutes(al["median_minutes"])) if al["resolved"] else w.t("report.fixed_none", opened=w.num(al["opened"]))
    return _section("anomalies", w, _table(head, rows, "anomaly-table"), _tag("p", fixed, "lead"),
                    _tag("p", w.t("report.open_at_end", count=w.num(al["open_at_end"])), "muted"),
                    _tag("p", w.t("report.anomaly_note"), "muted"))


def _goal_metric(metric: str, w: Words) -> str:
    if metric.startswith("skill:"):
        return w.t("goal.metric.skill", skill=w.metric("skill." + metric.split(":", 1)[1]))
    return w.term("goal.metric.", metric)


def _goal_value(v, unit: str, w: Words) -> str:
    if v is None:
        return w.na
    return w.t("goals.percent", value=w.n1(v)) if unit == "%" else w.n1(v)


def _goals(r: dict, w: Words) -> str:
    g = r["goals"]
    if not g["items"]:
        return _section("goals", w, _tag("p", w.t("report.no_goals"), "no-goals", id="report-no-goals"))
    head = [w.t("report.col.goal"), w.t("report.col.target"), w.t("report.col.progress"), w.t("report.col.due"),
            w.t("report.col.status"), w.t("report.col.why")]
    rows = [[w.label(_goal_metric(x["metric"], w)), _goal_value(x["target"], x.get("unit", ""), w),
             _goal_value(x.get("progress"), x.get("unit", ""), w), w.date(x["due"]),
             w.label(w.term("goal.status.", x["status"])), w.term("goal.reason.", x["reason"])] for x in g["items"]]
    return _section("goals", w, _table(head, rows, "goals-table"),
                    _tag("p", w.t("report.goals_as_of", date=w.date(g["as_of"])), "muted"))


def _benchmark(r: dict, w: Words) -> str:
    b = r["benchmark"]
    value = b["interactions_per_robot_day"] or 0.0
    chart = charts.progress(value, b["threshold"], lambda v: w.n1(v), w.t("report.section.benchmark"),
                            w.label(w.t("report.benchmark_target", threshold=w.num(b["threshold"]))))
    line = w.t("report.benchmark_met" if b["met"] else "report.benchmark_progress",
               value=w.n1(value), threshold=w.num(b["threshold"]), pct=w.pct(b["progress_pct"]))
    return _section("benchmark", w, f'<figure class="fig">{chart}</figure>', _tag("p", line, "lead"),
                    _tag("p", w.t("report.benchmark_days", days=w.num(b["days_met"]), of=w.num(b["days"])), "muted"))


def _facts(facts: dict, w: Words) -> dict:
    out = {}
    for k, v in facts.items():
        if k == "subsystem":
            out[k] = w.term("subsystem.", v)
        elif k == "scene":
            out[k] = w.term("scene.", v) if v else w.t("report.none")
        elif k == "month":
            out[k] = w.month(v)
        elif k == "date":
            out[k] = w.date(v)
        elif k == "measure":
            out[k] = measure_name(v, w)
        elif k in ("pct", "peers_pct"):
            out[k] = w.pct(v)
        elif isinstance(v, (int, float)):
            out[k] = w.n1(v)
        else:
            out[k] = v
    return out


def _risks(r: dict, w: Words) -> str:
    risks = [_tag("li", w.t("report.risk." + x["code"], **_facts(x["facts"], w)), None, data_code=x["code"])
             for x in r["risks"]]
    steps = [_tag("li", w.t("report.step." + x["code"], **_facts(x["facts"], w)), None, data_code=x["code"])
             for x in r["next_steps"]]
    body = (f'<ul class="risks" id="report-risks">{"".join(risks)}</ul>' if risks
            else _tag("p", w.t("report.no_risks"), "lead"))
    return (_section("risks", w, body, cls="risks-block")
            + _section("next_steps", w, f'<ol class="steps" id="report-steps">{"".join(steps)}</ol>'))


def fragment(figures: dict, lang: str) -> str:
    """The report as an ``<article>`` with its own style, in ``lang`` (a catalogue language)."""
    w = Words(lang)
    r = figures
    parts = [_header(r, w)]
    if not r["has_data"]:
        parts.append(_no_data(r, w))
    else:
        parts += [_outcome(r, w), _compare(r, w), _funnel(r, w), _availability(r, w), _anomalies(r, w),
                  _goals(r, w), _benchmark(r, w), _risks(r, w)]
    generated = dt.datetime.fromtimestamp(r["generated_ms"] / 1000, dt.timezone.utc)
    parts.append(f'<div class="report-foot">{_tag("p", w.t("report.footer", date=w.date(_local_iso(generated, r["customer"]["timezone"]))))}</div>')
    month = parse_month(r["month"], r["customer"]["timezone"])  # validated already: keeps the label honest
    return (f'<style>{css()}</style><article class="report" lang="{lang}" data-customer="{_e(r["customer"]["id"])}" '
            f'data-month="{month.label}" data-has-data="{str(r["has_data"]).lower()}">{"".join(parts)}</article>')


def document(figures: dict, lang: str) -> str:
    """A whole HTML document (a file to send, or Chromium's input for the PDF)."""
    w = Words(lang)
    title = f'{figures["customer"]["name"]} · {w.t("report.title")} · {w.month(figures["month"])}'
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f'</head><body class="report-page">{fragment(figures, lang)}</body></html>\n')
